"""docs/operations.md and deploy/ against the real binary and real tools:
the configuration table says what `--help` says (every flag, variable and
default, and no flag --help does not have); the series the guide and the
alert rules name exist on a live /metrics, and every live series is in the
guide; `promtool check rules` accepts deploy/alerts.yml and `promtool test
rules` shows its alerts firing (tests/ops/alerts_test.yml); `systemd-analyze
verify` accepts the unit file.
"""

import os
import re
import shutil
import subprocess

import pytest

from metrics_client import INGEST_KEY, Samples, Server, server_binary

SOURCE = os.environ.get("OBS_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GUIDE = os.path.join(SOURCE, "docs", "operations.md")
ALERTS = os.path.join(SOURCE, "deploy", "alerts.yml")
UNIT = os.path.join(SOURCE, "deploy", "observability-server.service")
SERIES = re.compile(r"\b((?:obs|process)_[a-z0-9_]*[a-z0-9])\b")


def help_rows():
    """(flag as printed, variable, default) of every option of --help."""
    text = subprocess.run([server_binary(), "--help"], capture_output=True, text=True, timeout=10, check=True).stdout
    rows = re.findall(r"^  (--[a-z0-9-]+(?: VALUE)?)\s.*\n\s+default: (.*); env: (\S+)$", text, re.M)
    assert len(rows) >= 20, text
    return [(flag, env, default) for flag, default, env in rows]


def guide_text():
    with open(GUIDE, encoding="utf-8") as f:
        return f.read()


def test_the_guide_lists_every_flag_with_its_variable_and_default():
    rows = help_rows()
    table = [line for line in guide_text().splitlines() if line.startswith("| `--")]
    missing = []
    for flag, env, default in rows:
        want = "| `%s` | `%s` | %s |" % (flag, env, default.replace("|", "\\|"))
        if not any(line.startswith(want) for line in table):
            missing.append(want)
    assert not missing, "not in docs/operations.md's table:\n" + "\n".join(missing)
    known = {flag.split()[0] for flag, _, _ in rows}
    stale = [line for line in table if line.split("`")[1].split()[0] not in known]
    assert not stale, "flags --help does not have:\n" + "\n".join(stale)


def test_alert_rules_pass_promtool_check():
    r = subprocess.run(["promtool", "check", "rules", ALERTS], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_alert_rules_fire_on_their_test_series():
    r = subprocess.run(["promtool", "test", "rules", "alerts_test.yml"], cwd=os.path.dirname(os.path.abspath(__file__)),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


@pytest.fixture(scope="module")
def live_names(tmp_path_factory):
    """The sample names of a live /metrics after one request of each class
    on a route (so the request histogram has series)."""
    s = Server(str(tmp_path_factory.mktemp("docs")))
    try:
        body = {"events": [{"run_id": "r", "type": "thought", "payload": {"text": "t"}}]}
        assert s.request("POST", "/observability/events", body, INGEST_KEY)[0] == 201
        return Samples(s.scrape()).names()
    finally:
        s.stop()


def present(name, names):
    """A name as the guide writes it: a histogram by its family name."""
    return name in names or name + "_bucket" in names


def test_alert_rules_name_only_live_series(live_names):
    with open(ALERTS, encoding="utf-8") as f:
        exprs = "\n".join(re.findall(r"expr: ((?:.*\n)(?:\s{10,}.*\n)*)", f.read()))
    named = set(SERIES.findall(exprs))
    assert len(named) >= 10, named
    missing = sorted(n for n in named if not present(n, live_names))
    assert not missing, "alerts.yml names series /metrics does not have: %s" % missing


def test_documented_series_exist_on_a_live_server(live_names):
    documented = set(SERIES.findall(guide_text()))
    missing = sorted(n for n in documented if not present(n, live_names))
    assert not missing, "docs/operations.md names series /metrics does not have: %s" % missing


def test_every_live_series_is_documented(live_names):
    documented = set(SERIES.findall(guide_text()))
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in live_names}
    missing = sorted(n for n in families if n not in documented)
    assert not missing, "series of /metrics not in docs/operations.md: %s" % missing


def test_the_systemd_unit_verifies(tmp_path):
    with open(UNIT, encoding="utf-8") as f:
        unit = f.read()
    for setting in ("Restart=on-failure", "KillSignal=SIGTERM", "User=observability", "EnvironmentFile=",
                    "ReadWritePaths=/var/lib/observability-server", "NoNewPrivileges=yes"):
        assert re.search("^" + re.escape(setting), unit, re.M), setting
    # The server drains for up to 3 s, then commits and checkpoints.
    stop = int(re.search(r"^TimeoutStopSec=(\d+)s$", unit, re.M).group(1))
    assert 10 <= stop <= 90, stop
    assert shutil.which("systemd-analyze"), "systemd-analyze is needed (apt install systemd)"
    local = tmp_path / "observability-server.service"
    local.write_text(re.sub(r"^ExecStart=\S+", "ExecStart=" + server_binary(), unit, flags=re.M))
    r = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and (r.stdout + r.stderr).strip() == "", r.stdout + r.stderr
