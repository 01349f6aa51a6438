"""An instance process: `python -m cove.instance.worker [limits] serve|exec ...`.

`serve` loads a model with one of Cove's in-process serving stacks and answers the
SageMaker container contract (`GET /ping`, `POST /invocations`) on a Unix socket, through
the same HTTP implementation as the gateway. `exec` confines itself and then becomes a
bring-your-own-container command (`<exe> serve`), which listens on SAGEMAKER_BIND_TO_PORT.
The model loads before the socket exists, so a socket that answers /ping is a loaded model;
a model that fails to load exits with its traceback on stderr, which Cove reports.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import os
import signal
import sys
from pathlib import Path
from types import ModuleType

from cove.heap import freeze_startup_heap
from cove.host.limits import confine, die_with_parent
from cove.http.messages import Listener, Request, Response
from cove.http.server import Reply, serve_unix
from cove.instance.serving.base import ModelHandler
from cove.instance.serving.batch import (
    BATCH_HEADER,
    BatchItem,
    decode_items,
    encode_outcomes,
    run_batch,
    run_one,
)
from cove.instance.serving.context import InvocationContext

WORKER_LISTENER = Listener(kind="worker")
TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def handler_class(module: ModuleType) -> type:
    """A stack module's handler: its `Handler`, else the one class defined there with `invoke`."""
    cls = getattr(module, "Handler", None)
    if isinstance(cls, type):
        return cls
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and obj.__module__ == module.__name__ and hasattr(obj, "invoke")
    ]
    if len(found) != 1:
        raise ImportError(f"{module.__name__} does not define one serving Handler class")
    return found[0]


class WorkerApp:
    def __init__(self, handler: ModelHandler, model_dir: Path) -> None:
        self.handler = handler
        self.model_dir = str(model_dir)

    async def __call__(self, req: Request) -> Response:
        return self.answer(req)

    def answer_now(self, req: Request, reply: Reply) -> bool:
        """Every answer is computed at once: an instance serves one request at a time."""
        reply(self.answer(req))
        return True

    def answer(self, req: Request) -> Response:
        if req.path == "/invocations" and req.method == "POST":
            return self.invoke(req)
        if req.path == "/ping" and req.method in ("GET", "HEAD"):
            return Response(200, TEXT, b"")
        return Response(404, TEXT, b"Not found")

    def invoke(self, req: Request) -> Response:
        if BATCH_HEADER.lower() in req.headers:
            try:
                items = decode_items(req.body)
            except ValueError as exc:
                return Response(400, TEXT, f"malformed batch: {exc}".encode())
            outcomes = run_batch(self.handler, items, self.model_dir)
            return Response(200, [(BATCH_HEADER, str(len(outcomes)))], encode_outcomes(outcomes))
        ctx = InvocationContext(request_headers=req.headers, model_dir=self.model_dir)
        item = BatchItem(
            req.headers.get("content-type", ""), req.headers.get("accept", ""), None, req.body
        )
        out = run_one(self.handler, item, ctx)
        if out.status != 200:
            return Response(out.status, TEXT, out.body)
        headers = [("Content-Type", out.content_type), *ctx.response_headers.items()]
        return Response(200, headers, out.body)


async def serve(args: argparse.Namespace) -> None:
    model_dir = Path(args.model_dir)
    module = importlib.import_module(args.module)
    handler = handler_class(module)(model_dir, dict(os.environ))
    freeze_startup_heap()  # the model and its libraries stay for the process's life
    server = await serve_unix(WorkerApp(handler, model_dir), args.socket, WORKER_LISTENER)
    print(f"serving {args.module} from {model_dir} on {args.socket}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cove.instance.worker")
    parser.add_argument("--parent-pid", type=int, default=0, help="0: the sandbox sees to it")
    parser.add_argument("--cpus", default="", help="comma-separated CPU ids")
    parser.add_argument("--memory-bytes", type=int, default=0)
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--socket", required=True)
    s.add_argument("--module", required=True)
    s.add_argument("--model-dir", required=True)
    e = sub.add_parser("exec")
    e.add_argument("command", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.parent_pid:
        die_with_parent(args.parent_pid)
    confine([int(c) for c in args.cpus.split(",") if c], args.memory_bytes or None)
    if args.mode == "exec":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        os.execv(command[0], command)
    import uvloop

    uvloop.run(serve(args))


if __name__ == "__main__":
    main()
