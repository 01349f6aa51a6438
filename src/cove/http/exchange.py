"""One request on a connection, from its first parsed byte to its answer.

The connection (`HttpProtocol`) keeps what outlives a request: the transport and parser,
what it is reading and since when, the answers owed and their order. All that belongs to
one request lives here instead, in an `Exchange` made when its first byte is parsed: the
head as it accumulates, the body (buffered, or a stream handed over early), the plan it
is read by, a 100 Continue it may be owed, and how its answer is framed. A request
pipelined behind it gets an Exchange of its own, so it cannot see any of this one's
fields; the connection lets go of an Exchange once it is read, and whoever answers it
(the serving task, or an app's `answer_now` through `reply`) lets go of it with the
answer, so a finished request holds no memory on an idle keep-alive connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cove.http.body import BodyStream
from cove.http.messages import BodyPlan, Request, Response

if TYPE_CHECKING:
    from cove.http.server import HttpProtocol


class Exchange:
    # Slotted: one is made per request on the invocation hot path.
    __slots__ = (
        "conn",
        "url",
        "headers",
        "repeats",
        "request",
        "plan",
        "body",
        "body_size",
        "stream",
        "progress_seen",
        "continue_floor",
        "keep_alive",
        "head",
    )

    # Set once the head is parsed (on_headers_complete), before any body or answer; left
    # unset until then rather than typed Optional, as nothing reads it earlier.
    request: Request

    def __init__(self, conn: HttpProtocol, plan: BodyPlan) -> None:
        self.conn: HttpProtocol | None = conn  # None once a callback answer is written
        self.url = b""
        self.headers: dict[str, str] = {}  # lower-cased names, repeats joined with ','
        self.repeats = 0  # headers joined onto an earlier one: len(headers) + repeats sent
        self.plan = plan  # the connection's default until the app's admit decides
        self.body: list[bytes] = []  # the chunks of a body taken whole
        self.body_size = 0  # bytes of body received, buffered or streamed
        self.stream: BodyStream | None = None  # instead of `body`, for a streamed plan
        self.progress_seen = 0  # body_size at the last timeout sweep
        # A 100 Continue is owed once no more than this many answers are pending (None:
        # none is owed: not asked for, sent already, or the body came anyway).
        self.continue_floor: int | None = None
        # The answer's framing, known once the request is read (a streamed one: its head)
        self.keep_alive = True
        self.head = False  # a HEAD request: the answer announces a length, sends no body

    def reply(self, resp: Response) -> None:
        """The `Reply` an app's `answer_now` gets: writes this request's answer, once."""
        conn, self.conn = self.conn, None
        if conn is not None:  # exactly once, even if a buggy app calls again
            conn.write_reply(resp, self.keep_alive, self.head)
