"""`pip install ./sdk/python` works with no network: the in-tree build
backend needs nothing from an index (pip runs with --no-index, so a backend
that wanted setuptools from PyPI would fail here), and the installed copy
carries rules.json and works on its own."""

import os
import subprocess
import sys

from conftest import SDK_DIR


def test_pip_installs_the_sdk_offline(tmp_path):
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet",
                          "--disable-pip-version-check", "--target", str(target), SDK_DIR],
                         capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stderr
    assert (target / "observability" / "rules.json").is_file()
    check = ("import sys; sys.path.insert(0, %r); import observability; "
             "assert observability.__file__.startswith(%r), observability.__file__; "
             "print(observability.check_event({'run_id': 'r', 'type': 'thought', 'payload': {}}))"
             % (str(target), str(target)))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-I", "-c", check], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert "payload.text" in out.stdout and "required" in out.stdout
    # The build leaves nothing behind in the source folder.
    assert not [n for n in os.listdir(SDK_DIR) if n == "build" or n.endswith(".egg-info")]
