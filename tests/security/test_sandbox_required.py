"""Without a sandbox no model runs, unless the operator opts out explicitly, and then
every start says so.

Issue "Contain untrusted model code", part 1: "Where the host cannot build the sandbox,
Cove refuses to start instances with a clear reason, unless the operator passes an
explicit, documented opt-out that is logged at every start."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from botocore.exceptions import WaiterError
from models import SKLEARN_IMAGE, delete, deploy, pack, sklearn_model, upload


def test_no_bubblewrap_fails_the_endpoint_with_what_to_do(make_server, tmp_path) -> None:
    # a PATH with the server's own interpreter and nothing else: no bwrap to be found
    srv = make_server(env={"PATH": str(Path(sys.executable).parent)})
    name = deploy(srv, SKLEARN_IMAGE, upload(srv, pack(sklearn_model(tmp_path / "m"))),
                  wait=False)
    sm = srv.client("sagemaker")
    with pytest.raises(WaiterError):
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60})
    reason = sm.describe_endpoint(EndpointName=name)["FailureReason"]
    assert "`bwrap` is not installed" in reason and "apt-get install bubblewrap" in reason
    assert "COVE_SANDBOX=off" in reason


def test_the_opt_out_is_logged_at_every_instance_start(make_server, tmp_path) -> None:
    srv = make_server(env={"COVE_SANDBOX": "off"})
    assert "sandbox: OFF (COVE_SANDBOX=off)" in srv.log()
    name = deploy(srv, SKLEARN_IMAGE, upload(srv, pack(sklearn_model(tmp_path / "m"))),
                  variants=[{"VariantName": "AllTraffic", "InitialInstanceCount": 2}])
    assert srv.log().count("runs WITHOUT a sandbox (COVE_SANDBOX=off)") == 2
    delete(srv, name)


def test_an_unknown_sandbox_setting_stops_the_server(tmp_path) -> None:
    import subprocess

    from conftest import COVE, free_port

    done = subprocess.run(
        [*COVE, "server", "--port", str(free_port()), "--data-dir", str(tmp_path / "d")],
        env={**os.environ, "COVE_SANDBOX": "maybe"}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "cove server: COVE_SANDBOX must be 'on' or 'off', not 'maybe'"
