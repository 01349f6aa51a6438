"""Instances are worker processes: confined to their instance type, restarted when they
crash while the others keep serving, and gone when the server stops."""

from __future__ import annotations

import glob
import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

from conftest import children_of, is_sandbox_holder, memory_cgroup_limit
from models import (
    SKLEARN_IMAGE,
    breast_cancer,
    byoc_server,
    csv_rows,
    delete,
    deploy,
    pack,
    sklearn_model,
    sklearn_predict,
    upload,
)

X, _ = breast_cancer()


def workers(server, name: str) -> list[int]:
    """Worker processes whose model Environment carries COVE_TEST_ENDPOINT=`name`."""
    out = []
    for pid in children_of(server.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if (b"cove.instance.worker" in cmd and not is_sandbox_holder(cmd)
                and f"COVE_TEST_ENDPOINT={name}".encode() in env):
            out.append(pid)
    return out


def wait_for(pred, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_crashed_instance_restarts_while_others_serve(server, tmp_path: Path) -> None:
    url = upload(server, pack(sklearn_model(tmp_path / "m")))
    name = deploy(
        server,
        SKLEARN_IMAGE,
        url,
        variants=[
            {"VariantName": "AllTraffic", "InitialInstanceCount": 2, "InstanceType": "ml.t2.medium"}
        ],
        environment={"COVE_TEST_ENDPOINT": "crash"},
    )
    rt = server.client("sagemaker-runtime")
    want = sklearn_predict(X[:2])
    failures: list[Exception] = []
    done = threading.Event()
    count = [0]

    def load() -> None:
        while not done.is_set():
            try:
                resp = rt.invoke_endpoint(
                    EndpointName=name, Body=csv_rows(X[:2]), ContentType="text/csv"
                )
                assert json.loads(resp["Body"].read()) == want
                count[0] += 1
            except Exception as exc:  # collected and asserted below
                failures.append(exc)

    try:
        before = wait_for(lambda: (p := workers(server, "crash")) and len(p) == 2 and p)
        # the instance type's profile is applied to the process
        status = Path(f"/proc/{before[0]}/status").read_text()
        host_cpus = len(os.sched_getaffinity(0))
        allowed = status.split("Cpus_allowed_list:")[1].split()[0]
        assert len(os.sched_getaffinity(before[0])) == min(2, host_cpus), allowed
        assert memory_cgroup_limit(before[0]) == 4 * 1024**3  # the cgroup counts its children
        env = Path(f"/proc/{before[0]}/environ").read_bytes().split(b"\0")
        assert f"OMP_NUM_THREADS={min(2, host_cpus)}".encode() in env
        assert not any(e.startswith(b"AWS_SECRET_ACCESS_KEY=") for e in env)

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(0.5)
        os.kill(before[0], signal.SIGKILL)
        after = wait_for(
            lambda: (p := workers(server, "crash")) and len(p) == 2 and before[0] not in p and p
        )
        time.sleep(1.0)
        done.set()
        thread.join(30)
        assert before[1] in after  # the other instance kept running
        # The one call in flight on the killed instance may fail (it is not sent again:
        # it could be what crashed it); every other call is served.
        assert len(failures) <= 1, failures[:3]
        assert all("closed the connection without answering" in str(f) for f in failures)
        assert count[0] > 10
    finally:
        done.set()
        delete(server, name)


def test_server_stop_leaves_no_instance_behind_and_restart_serves(make_server, tmp_path) -> None:
    srv = make_server()
    url = upload(srv, pack(sklearn_model(tmp_path / "m")))
    exe = byoc_server(tmp_path / "bin" / "echo")
    (tmp_path / "greet").mkdir()
    (tmp_path / "greet" / "greeting.txt").write_text("hi")
    sk = deploy(
        srv, SKLEARN_IMAGE, url, variants=[{"VariantName": "AllTraffic", "InitialInstanceCount": 2}]
    )
    byoc = deploy(srv, str(exe), upload(srv, pack(tmp_path / "greet")))
    assert len(children_of(srv.proc.pid)) >= 3
    assert srv.stop(signal.SIGINT) == []

    srv2 = make_server(data_dir=srv.data_dir)
    rt = srv2.client("sagemaker-runtime")
    sm = srv2.client("sagemaker")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=sk, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    resp = rt.invoke_endpoint(EndpointName=sk, Body=csv_rows(X[:3]), ContentType="text/csv")
    assert json.loads(resp["Body"].read()) == sklearn_predict(X[:3])
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=byoc, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert rt.invoke_endpoint(EndpointName=byoc, Body=b"x")["Body"].read() == b"hi X "
    assert srv2.stop(signal.SIGTERM) == []


def test_socket_dir_of_a_killed_server_is_removed_by_the_next(make_server, tmp_path) -> None:
    def socket_dirs(pid: int) -> list[str]:
        return glob.glob(f"{tempfile.gettempdir()}/cove-sockets-{pid}-*")

    first = make_server(tmp_path / "a")
    (killed,) = socket_dirs(first.proc.pid)
    first.stop(signal.SIGKILL)
    assert Path(killed).is_dir()  # a killed server cannot clean up after itself
    second = make_server(tmp_path / "b")
    assert not Path(killed).exists()
    pid = second.proc.pid
    assert socket_dirs(pid)
    second.stop()
    assert not socket_dirs(pid)  # a clean stop removes its own
