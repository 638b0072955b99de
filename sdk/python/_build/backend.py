"""A PEP 517 build backend for this one pure-Python package, standard library only.

pip builds a package in an isolated environment into which it first installs
the backend's requirements from an index; setuptools would need PyPI, which
this project's machines do not reach. This backend needs nothing: it zips
the `observability` folder (its .py files and rules.json) into a wheel with
the metadata PEP 427 / the core metadata spec ask for. Project name and
version are read from pyproject.toml with tomllib.
"""

import base64
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGE = "observability"


def _project():
    with open(os.path.join(_ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _package_files():
    """(path inside the wheel, bytes) of every file the package ships."""
    folder = os.path.join(_ROOT, _PACKAGE)
    for name in sorted(os.listdir(folder)):
        if name.endswith((".py", ".json")):
            with open(os.path.join(folder, name), "rb") as f:
                yield _PACKAGE + "/" + name, f.read()


def _metadata(project):
    lines = ["Metadata-Version: 2.1", "Name: " + project["name"], "Version: " + project["version"],
             "Summary: " + project.get("description", ""), "Requires-Python: " + project.get("requires-python", "")]
    return ("\n".join(lines) + "\n").encode()


def _dist_info(project):
    return "%s-%s.dist-info" % (project["name"], project["version"])


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def _write_wheel(wheel_directory, files):
    project = _project()
    name = "%s-%s-py3-none-any.whl" % (project["name"], project["version"])
    info = _dist_info(project)
    entries = list(files) + [
        (info + "/METADATA", _metadata(project)),
        (info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: observability-backend\nRoot-Is-Purelib: true\n"
                          b"Tag: py3-none-any\n"),
    ]
    record = "\n".join(_record_line(p, d) for p, d in entries) + "\n%s/RECORD,,\n" % info
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in entries:
            z.writestr(path, data)
        z.writestr(info + "/RECORD", record)
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, _package_files())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # PEP 660: a .pth line that puts this source folder on sys.path.
    return _write_wheel(wheel_directory, [(_PACKAGE + "_editable.pth", (_ROOT + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = "%s-%s" % (project["name"], project["version"])
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tar:
        for rel in ["pyproject.toml", "_build/backend.py"] + [p for p, _ in _package_files()]:
            tar.add(os.path.join(_ROOT, rel), arcname=base + "/" + rel)
        pkg_info = _metadata(project)
        ti = tarfile.TarInfo(base + "/PKG-INFO")
        ti.size = len(pkg_info)
        tar.addfile(ti, io.BytesIO(pkg_info))
    return name
