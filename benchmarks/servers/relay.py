"""The relay: the least any design that keeps the model in a second process can cost.

floor.py runs as this process's child on a Unix socket; every client TCP connection gets
its own Unix-socket connection to it and the bytes are forwarded both ways, never parsed.
One extra process hop with no work in it. Usage: relay.py MODEL_PATH PORT
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop

FLOOR = Path(__file__).resolve().parent / "floor.py"
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before fork: the child only calls prctl


class Backend(asyncio.Protocol):
    """The relay's connection to the floor: whatever the floor answers goes to the client."""

    def __init__(self, client: asyncio.Transport) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        self.client.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.close()


class Client(asyncio.Protocol):
    """One client TCP connection, relayed over its own connection to the floor."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.client: asyncio.Transport | None = None
        self.backend: asyncio.BaseTransport | None = None
        self.pending: list[bytes] = []  # client bytes that arrive before the backend is open

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.client = transport  # type: ignore[assignment]
        loop = asyncio.get_running_loop()
        opening = loop.create_task(
            loop.create_unix_connection(lambda: Backend(self.client), self.path))
        opening.add_done_callback(self._opened)

    def _opened(self, opening: asyncio.Task) -> None:
        if opening.cancelled() or opening.exception() is not None:
            self.client.close()
            return
        self.backend = opening.result()[0]
        if self.client.is_closing():  # the client left while we connected
            self.backend.close()
        elif self.pending:
            self.backend.write(b"".join(self.pending))
            self.pending.clear()

    def data_received(self, data: bytes) -> None:
        if self.backend is None:
            self.pending.append(data)
        else:
            self.backend.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.backend is not None:
            self.backend.close()


def _die_with_parent(parent: int) -> None:
    # Runs in the child before exec: the kernel kills it when the relay dies, even by
    # SIGKILL; if the relay already died before prctl, the child was re-parented: leave.
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def wait_for_socket(path: str, child: subprocess.Popen) -> None:
    while True:
        if child.poll() is not None:
            sys.exit(f"floor exited with {child.returncode}")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(path)
                return
            except OSError:
                time.sleep(0.02)


async def serve(port: int, path: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(lambda: Client(path), "127.0.0.1", port)
    await stop.wait()
    server.close()


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwind through the `finally` that stops the floor


def main(model_path: str, port: int) -> None:
    signal.signal(signal.SIGTERM, _exit)  # while the floor loads; serve() takes over after
    parent = os.getpid()
    with tempfile.TemporaryDirectory(prefix="relay-") as tmp:
        path = os.path.join(tmp, "floor.sock")
        child = subprocess.Popen([sys.executable, str(FLOOR), model_path, path],
                                 preexec_fn=lambda: _die_with_parent(parent))
        try:
            wait_for_socket(path, child)
            uvloop.run(serve(port, path))
        finally:
            # No second signal may cut the cleanup short (leaving the floor or the dir behind).
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
            child.terminate()
            child.wait()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
