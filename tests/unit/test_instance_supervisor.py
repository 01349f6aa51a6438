"""The instance supervisor against real (tiny) processes: healthy after /ping, restarted
when it exits or is recycled, nothing left after stop, and a clear failure when it never
becomes healthy."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from tiny_instance import child_pid, running, tiny_instance
from waiting import until

from cove.runtime.client import HttpResponse
from cove.runtime.instance import Instance, InstanceFailed
from cove.runtime.invocation import Invocation
from cove.runtime.lane import BatchPolicy


async def invoke(inst: Instance, body: bytes) -> HttpResponse | Exception:
    fut = asyncio.get_running_loop().create_future()
    inst.submit(Invocation(body, "text/plain", None), fut.set_result)
    return await fut



@pytest.mark.parametrize("serial", [None, BatchPolicy()], ids=["pooled", "lane"])
def test_healthy_after_ping_serves_and_stop_leaves_no_process(tmp_path: Path, serial) -> None:
    healthy_calls = []

    async def scenario() -> tuple[int, int]:
        inst = tiny_instance(tmp_path, serial=serial, on_healthy=lambda: healthy_calls.append(1))
        assert not inst.healthy
        await inst.start()
        try:
            assert inst.healthy and inst.alive and healthy_calls == [1]
            pid = inst.pid
            assert pid is not None and running(pid)
            got = await invoke(inst, b"hello")
            assert isinstance(got, HttpResponse) and got.body == f"{pid}:hello".encode()
            return pid, child_pid(tmp_path)
        finally:
            await inst.stop()
            assert not inst.healthy and not inst.alive

    pid, child = asyncio.run(scenario())
    assert not running(pid)
    # the whole process group goes: killed at stop, gone once the kernel delivered it
    asyncio.run(until(lambda: not running(child)))


def test_a_process_that_exits_is_restarted_by_the_supervisor(tmp_path: Path) -> None:
    async def scenario() -> None:
        inst = tiny_instance(tmp_path, serial=BatchPolicy())
        await inst.start()
        try:
            first, first_child = inst.pid, child_pid(tmp_path)
            assert first is not None
            got = await invoke(inst, b"crash")  # in flight when it died
            assert isinstance(got, ConnectionError)
            await until(lambda: inst.restarts == 1 and inst.healthy)
            assert inst.pid != first and inst.pid is not None and running(inst.pid)
            await until(lambda: not running(first_child))  # its group is killed too
            got = await invoke(inst, b"again")
            assert isinstance(got, HttpResponse) and got.body == f"{inst.pid}:again".encode()

            os.kill(inst.pid, signal.SIGKILL)  # killed from outside: the same
            await until(lambda: inst.restarts == 2 and inst.healthy)
        finally:
            await inst.stop()

    asyncio.run(scenario())


def test_recycle_takes_it_out_of_rotation_kills_and_restarts(tmp_path: Path) -> None:
    async def scenario() -> None:
        inst = tiny_instance(tmp_path)
        await inst.start()
        try:
            old = inst.pid
            assert old is not None
            inst.recycle("failed its /ping health check")
            assert not inst.healthy  # at once, before the restart
            await until(lambda: not running(old))
            await until(lambda: inst.restarts == 1 and inst.healthy)
            assert inst.pid not in (None, old)
        finally:
            await inst.stop()
        inst.recycle("after stop")  # a stopped instance stays stopped
        await asyncio.sleep(0.3)
        assert inst.restarts == 1 and not inst.alive

    asyncio.run(scenario())


def test_a_process_that_never_answers_ping_fails_with_its_log_tail(tmp_path: Path) -> None:
    async def scenario() -> tuple[Instance, str]:
        inst = tiny_instance(tmp_path, "silent", startup_timeout=0.5)
        with pytest.raises(InstanceFailed) as failed:
            await inst.start()
        try:
            assert inst.pid is not None
            await until(lambda: not running(inst.pid), 1.0)  # killed, not left to load
            return inst, str(failed.value)
        finally:
            await inst.stop()

    inst, message = asyncio.run(scenario())
    assert message.startswith("it did not answer GET /ping within 0.5 s")
    assert str(tmp_path / "instance.log") in message
    assert message.endswith("still loading the model...")


def test_a_process_that_exits_at_startup_fails_with_its_status_and_only_its_own_log(
    tmp_path: Path,
) -> None:
    (tmp_path / "instance.log").write_text("an older process's line\n")

    async def scenario() -> str:
        inst = tiny_instance(tmp_path, "exit")
        with pytest.raises(InstanceFailed) as failed:
            await inst.start()
        await inst.stop()
        return str(failed.value)

    message = asyncio.run(scenario())
    assert message.startswith("the process exited with status 3")
    assert message.endswith("the model failed to load: no such file")
    assert "older process" not in message
