"""What an instance leaves on the host is bounded and goes with it: its log is capped and
rotated, its socket directory is removed when it stops.

Findings: "instance logs are capped and rotated; stale sockets go" (issue "Contain
untrusted model code", part 2)."""

from __future__ import annotations

import time

from models import SKLEARN_IMAGE, delete, deploy, pack, sklearn_model, upload

CHATTY = """
def transform_fn(model, data, content_type, accept):
    print("x" * 20000, flush=True)
    return "ok"
"""


def test_a_chatty_model_log_is_rotated_and_its_socket_dir_goes(make_server, tmp_path) -> None:
    cap = 100_000
    srv = make_server(env={"COVE_LOG_MAX_BYTES": str(cap), "COVE_HEALTH_INTERVAL": "0.2"})
    name = deploy(srv, SKLEARN_IMAGE, upload(srv, pack(sklearn_model(tmp_path / "m", CHATTY))))
    assert len(srv.instance_dirs()) == 1
    rt = srv.client("sagemaker-runtime")
    logs = srv.data_dir / "logs" / "endpoints" / name
    for _ in range(60):  # 1.2 MB of output in all
        rt.invoke_endpoint(EndpointName=name, Body="hi", ContentType="text/plain")
        time.sleep(0.1)  # slower than the 0.2 s checks rotate it
    time.sleep(0.5)
    names = sorted(p.name for p in logs.iterdir())
    assert names == ["AllTraffic-1.log", "AllTraffic-1.log.1", "AllTraffic-1.log.2",
                     "AllTraffic-1.log.3"], names
    assert all(p.stat().st_size < 2 * cap for p in logs.iterdir())
    delete(srv, name)
    srv.client("sagemaker").get_waiter("endpoint_deleted").wait(
        EndpointName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    assert srv.instance_dirs() == []  # the instance's socket dir went with it
