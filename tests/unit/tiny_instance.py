"""A tiny real instance process for the supervisor and fleet tests: the container
contract (`GET /ping`, `POST /invocations`) on a Unix socket, in the standard library
only so that it starts in a few tens of milliseconds.

Its `MODE` environment variable picks a behaviour:
  ok      answers /ping 200; an invocation gets `<pid>:<body>` back, after 0.3 s for
          the body `slow` (1 s for `slower`); the body `crash` makes it exit with the
          call unanswered
  silent  prints a line, never listens (a model that never finishes loading)
  exit    prints a line and exits with status 3
  deaf    stops listening once it has answered its first /ping (new connections are
          refused, the process stays)
It closes each connection after one answer, so every call needs a fresh connection.
It starts a `sleep` in its process group and writes that pid to `<socket>.child`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from cove.runtime.client import unix_connector
from cove.runtime.instance import Instance, Launch
from cove.runtime.lane import BatchPolicy

SCRIPT = r"""
import asyncio, os, subprocess, sys
path, mode = sys.argv[1], os.environ["MODE"]
print(f"instance {os.getpid()} starting in mode {mode}", flush=True)
if mode == "exit":
    print("the model failed to load: no such file", flush=True)
    sys.exit(3)
child = subprocess.Popen(["sleep", "600"])
with open(path + ".child", "w") as f:
    f.write(str(child.pid))

async def handle(reader, writer):
    line = await reader.readline()
    if not line:
        writer.close()
        return
    method, target, _ = line.decode().split(" ", 2)
    length = 0
    while (header := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = header.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    if target == "/ping":
        out = b""
        if mode == "deaf":
            server.close()
    else:
        print("invoked", body.decode(), flush=True)
        if body == b"crash":
            os._exit(5)
        if body == b"slow":
            await asyncio.sleep(0.3)
        if body == b"slower":
            await asyncio.sleep(1.0)
        out = str(os.getpid()).encode() + b":" + body
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(out), out))
    await writer.drain()
    writer.close()

async def main():
    global server
    if mode == "silent":
        print("still loading the model...", flush=True)
        await asyncio.sleep(600)
    server = await asyncio.start_unix_server(handle, path)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def launcher(run_dir: Path, mode: str = "ok") -> Callable[[], Launch]:
    """A `make_launch` for the tiny instance serving on `run_dir/i.sock`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    sock = str(run_dir / "i.sock")

    def make() -> Launch:
        return Launch(
            argv=[sys.executable, "-c", SCRIPT, sock],
            env={"MODE": mode, "PATH": "/usr/bin:/bin"},
            connect=unix_connector(sock),
            cwd=str(run_dir),
            socket_path=sock,
        )

    return make


def tiny_instance(
    run_dir: Path,
    mode: str = "ok",
    *,
    name: str = "v-1",
    az: str = "us-east-1a",
    startup_timeout: float = 5.0,
    timeout: float = 5.0,
    serial: BatchPolicy | None = None,
    on_healthy: Callable[[], None] = lambda: None,
    on_idle: Callable[[Instance], None] | None = None,
) -> Instance:
    return Instance(
        name,
        "v",
        launcher(run_dir, mode),
        run_dir / "instance.log",
        az=az,
        startup_timeout=startup_timeout,
        on_healthy=on_healthy,
        timeout=timeout,
        serial=serial,
        on_idle=on_idle,
    )


def child_pid(run_dir: Path) -> int:
    return int((run_dir / "i.sock.child").read_text())


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone, or going while it was read
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
