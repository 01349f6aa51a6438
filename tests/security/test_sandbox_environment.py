"""A model's Environment reaches the model, and nothing that runs with the server's
privileges: bubblewrap and setpriv are the server's own (found on its PATH at start) and
get the server's environment, never PATH or LD_PRELOAD from a model.

Found in review of the sandbox: with the model's Environment handed to `bwrap`, a model
whose archive held `bin/bwrap` and set PATH to it ran that file as root on the host."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from pathlib import Path

from models import SKLEARN_IMAGE, deploy, pack, sklearn_model, upload

SHOW_ENV = """
import json, os

def transform_fn(model, data, content_type, accept):
    keys = ("PATH", "LD_PRELOAD", "SECRET_SETTING", "OMP_NUM_THREADS")
    return json.dumps({k: os.environ.get(k) for k in keys})
"""


def test_model_environment_steers_no_privileged_program(make_server, tmp_path) -> None:
    host_marker = Path("/tmp") / f"cove-pwned-{uuid.uuid4().hex}"
    model = sklearn_model(tmp_path / "m", SHOW_ENV)
    (model / "bin").mkdir()
    # what a hostile archive would bring: a `bwrap` the server would run on the host, and
    # a `setpriv` bubblewrap would run as root inside the sandbox (its mark lands in the
    # instance's socket dir, which the host can see)
    fakes = {"bwrap": f"touch {host_marker}", "setpriv": "touch /run/cove/pwned"}
    for name, mark in fakes.items():
        fake = model / "bin" / name
        fake.write_text(f'#!/bin/sh\n{mark}\nexec /usr/bin/{name} "$@"\n')
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    archive = pack(model)
    srv = make_server()
    url = upload(srv, archive)
    # the attacker can tell where its unpacked copy lives: the archive's SHA-256 names it
    copy = srv.data_dir / "models" / hashlib.sha256(archive.read_bytes()).hexdigest()
    env = {
        "PATH": f"{copy}/bin:/opt/ml/model/bin:{os.environ['PATH']}",
        "LD_PRELOAD": "/opt/ml/model/evil.so",
        "SECRET_SETTING": "seen-by-the-model-only",
        "OMP_NUM_THREADS": "1",
    }
    name = deploy(srv, SKLEARN_IMAGE, url, environment=env)
    assert (copy / "bin" / "bwrap").exists()  # the trap was laid where the attacker said
    rt = srv.client("sagemaker-runtime")
    got = json.loads(rt.invoke_endpoint(EndpointName=name, Body="x",
                                        ContentType="text/plain")["Body"].read())
    assert got == env  # the model sees its whole Environment, PATH and LD_PRELOAD included
    assert not host_marker.exists(), "the server ran the model's bwrap on the host"
    [instance_dir] = srv.instance_dirs()
    assert not (instance_dir / "pwned").exists(), "bubblewrap ran the model's setpriv as root"
