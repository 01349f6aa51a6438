"""The data dir is private and belongs to one server.

Findings: "the data dir is world-readable (models' Environment secrets, objects, logs)"
and "a second `cove server` on the same data dir starts every endpoint again and leaves
ghosts" (issue "Contain untrusted model code")."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from conftest import COVE, free_port
from models import SKLEARN_IMAGE, deploy, pack, sklearn_model, upload


def loose(root) -> list[str]:
    """Paths under `root` that group or others may read, write or enter."""
    found = []
    for dirpath, dirs, files in os.walk(root):
        for name in [*dirs, *files, ""]:
            path = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(path)
            special = stat.S_ISLNK(st.st_mode) or stat.S_ISSOCK(st.st_mode)
            if not special and st.st_mode & 0o077:
                found.append(f"{oct(st.st_mode & 0o777)} {path}")
    return found


def test_everything_in_the_data_dir_is_private_even_files_from_before(make_server, tmp_path):
    data = tmp_path / "data"
    (data / "objects").mkdir(parents=True)
    old = data / "objects" / "written-before.bin"
    old.write_bytes(b"x")
    os.chmod(data, 0o755)
    os.chmod(data / "objects", 0o777)
    os.chmod(old, 0o644)
    srv = make_server(data)
    url = upload(srv, pack(sklearn_model(tmp_path / "m")))
    deploy(srv, SKLEARN_IMAGE, url, environment={"SECRET_TOKEN": "s3cr3t"})
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert loose(data) == []


def test_second_server_on_the_same_data_dir_is_refused(make_server, tmp_path):
    srv = make_server()
    second = subprocess.run(
        [*COVE, "server", "--port", str(free_port()), "--data-dir", str(srv.data_dir)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert second.returncode == 1
    assert f"Another cove server (pid {srv.proc.pid}) is using the data dir" in second.stderr
    # the first one is untouched and still serving
    assert srv.client("sagemaker").list_endpoints()["Endpoints"] == []
    assert (srv.data_dir / "server.port").read_text().strip() == srv.url
