"""The floor: the least a Python server can do per request.

uvloop + httptools, the model in-process, no framework: read one CSV row, predict,
answer the prediction as a JSON list. Usage: floor.py MODEL_PATH PORT|SOCKET_PATH
(a non-numeric second argument is a Unix socket path: relay.py runs the floor behind it).
"""

from __future__ import annotations

import asyncio
import sys

import httptools
import joblib
import numpy as np
import uvloop


class Floor(asyncio.Protocol):
    def __init__(self, model: object) -> None:
        self.model = model
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_begin(self) -> None:
        self.body = []

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        row = np.array(b"".join(self.body).split(b","), dtype=np.float64).reshape(1, -1)
        out = ("[" + ",".join(repr(v) for v in self.model.predict(row).tolist()) + "]").encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        self.transport.write(head % len(out) + out)
        if not self.parser.should_keep_alive():
            self.transport.close()


async def main(model_path: str, where: str) -> None:
    model = joblib.load(model_path)
    loop = asyncio.get_running_loop()
    if where.isdigit():
        server = await loop.create_server(lambda: Floor(model), "127.0.0.1", int(where))
    else:
        server = await loop.create_unix_server(lambda: Floor(model), where)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], sys.argv[2]))
