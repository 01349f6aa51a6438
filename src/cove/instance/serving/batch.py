"""Adaptive batching between the gateway and an instance: the wire format of a batch,
and the row-wise batch workflow for toolkit-style stacks.

The gateway coalesces requests queued for one busy instance into one `POST /invocations`
marked with the `X-Cove-Batch` header. Its body is a JSON line describing each item
(content type, accept, custom attributes, body length) followed by the item bodies; the
answer has the same layout with each item's status. Each item's answer is byte for byte
what the instance would have answered to it alone, errors included.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass

import numpy as np

from cove.instance.serving.base import ModelHandler, ModelInvocationError
from cove.instance.serving.context import CUSTOM_ATTRIBUTES, InvocationContext, enter, leave
from cove.instance.serving.toolkit import ToolkitHandler

BATCH_HEADER = "X-Cove-Batch"
TEXT = "text/plain; charset=utf-8"


@dataclass
class BatchItem:
    content_type: str
    accept: str
    custom_attributes: str | None
    body: bytes


@dataclass
class BatchOutcome:
    status: int
    content_type: str
    body: bytes
    custom_attributes: str | None = None


def _pack(meta: list[list[object]], bodies: list[bytes]) -> bytes:
    return json.dumps(meta, separators=(",", ":")).encode() + b"\n" + b"".join(bodies)


def _unpack(data: bytes) -> tuple[list[list[object]], memoryview]:
    head, sep, _ = data.partition(b"\n")
    if not sep:
        raise ValueError("batch body has no header line")
    return json.loads(head), memoryview(data)[len(head) + 1 :]


def _split(rest: memoryview, sizes: list[int]) -> list[bytes]:
    if sum(sizes) != len(rest):
        raise ValueError("batch body lengths do not add up")
    out, offset = [], 0
    for size in sizes:
        out.append(bytes(rest[offset : offset + size]))
        offset += size
    return out


def encode_items(items: list[BatchItem]) -> bytes:
    meta = [[i.content_type, i.accept, i.custom_attributes, len(i.body)] for i in items]
    return _pack(meta, [i.body for i in items])


def decode_items(data: bytes) -> list[BatchItem]:
    meta, rest = _unpack(data)
    bodies = _split(rest, [int(m[3]) for m in meta])  # type: ignore[call-overload]
    return [
        BatchItem(str(m[0]), str(m[1]), m[2] if m[2] is None else str(m[2]), body)
        for m, body in zip(meta, bodies, strict=True)
    ]


def encode_outcomes(outcomes: list[BatchOutcome]) -> bytes:
    meta = [[o.status, o.content_type, o.custom_attributes, len(o.body)] for o in outcomes]
    return _pack(meta, [o.body for o in outcomes])


def decode_outcomes(data: bytes) -> list[BatchOutcome]:
    meta, rest = _unpack(data)
    bodies = _split(rest, [int(m[3]) for m in meta])  # type: ignore[call-overload]
    return [
        BatchOutcome(int(m[0]), str(m[1]), body, m[2] if m[2] is None else str(m[2]))  # type: ignore[call-overload]
        for m, body in zip(meta, bodies, strict=True)
    ]


# -- inside the instance --------------------------------------------------------------
def outcome_of(exc: Exception) -> BatchOutcome:
    """What a failed request answers: the model's own status, or 500 with the error."""
    if isinstance(exc, ModelInvocationError):
        return BatchOutcome(exc.status, TEXT, exc.message.encode())
    traceback.print_exception(exc)  # the instance log, like a container's CloudWatch stream
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return BatchOutcome(500, TEXT, message.encode())


def run_one(handler: ModelHandler, item: BatchItem, ctx: InvocationContext) -> BatchOutcome:
    """One request through the handler, exactly as an unbatched invocation runs it."""
    token = enter(ctx)
    try:
        body, content_type = handler.invoke(item.body, item.content_type, item.accept)
    except Exception as exc:
        return outcome_of(exc)
    finally:
        leave(token)
    return BatchOutcome(200, content_type, body, ctx.response_headers.get(CUSTOM_ATTRIBUTES))


def _context(item: BatchItem, model_dir: str) -> InvocationContext:
    headers = {"content-type": item.content_type, "accept": item.accept}
    if item.custom_attributes is not None:
        headers[CUSTOM_ATTRIBUTES.lower()] = item.custom_attributes
    return InvocationContext(request_headers=headers, model_dir=model_dir)


def run_batch(handler: ModelHandler, items: list[BatchItem], model_dir: str) -> list[BatchOutcome]:
    """Answer every item; row-wise toolkit stacks predict all rows in one call.

    Inputs are decoded one by one (a bad payload fails only its own request), the 2-D
    inputs are stacked for one predict_fn call and its rows split back per request. If
    that call fails, each request is predicted alone so that only the bad one fails.
    """
    contexts = [_context(item, model_dir) for item in items]
    if not (isinstance(handler, ToolkitHandler) and handler.row_wise) or len(items) == 1:
        return [run_one(handler, item, ctx) for item, ctx in zip(items, contexts, strict=True)]
    outcomes: list[BatchOutcome | None] = [None] * len(items)
    stacked: list[tuple[int, np.ndarray, str]] = []
    for idx, (item, ctx) in enumerate(zip(items, contexts, strict=True)):
        token = enter(ctx)
        try:
            data, accept = handler.prepare(item.body, item.content_type, item.accept)
            features = handler.input_fn(data, item.content_type)
        except Exception as exc:
            outcomes[idx] = outcome_of(exc)
            continue
        finally:
            leave(token)
        if _stackable(features, stacked):
            stacked.append((idx, features, accept))
        else:
            outcomes[idx] = run_one(handler, item, ctx)
    if stacked:
        _predict_stacked(handler, stacked, items, contexts, outcomes)
    return [o for o in outcomes if o is not None]


def _stackable(features: object, stacked: list[tuple[int, np.ndarray, str]]) -> bool:
    if not isinstance(features, np.ndarray) or features.ndim != 2:
        return False
    if not stacked:
        return True
    first = stacked[0][1]
    return features.shape[1] == first.shape[1] and features.dtype == first.dtype


def _predict_stacked(
    handler: ToolkitHandler,
    stacked: list[tuple[int, np.ndarray, str]],
    items: list[BatchItem],
    contexts: list[InvocationContext],
    outcomes: list[BatchOutcome | None],
) -> None:
    sizes = [features.shape[0] for _, features, _ in stacked]
    try:
        predictions = handler.predict_fn(np.concatenate([f for _, f, _ in stacked]), handler.model)
        if len(predictions) != sum(sizes):
            raise ValueError("predict_fn is not row-wise")
    except Exception:
        for idx, _, _ in stacked:  # isolate the failure to the request that causes it
            outcomes[idx] = run_one(handler, items[idx], contexts[idx])
        return
    start = 0
    for (idx, _, accept), size in zip(stacked, sizes, strict=True):
        part = predictions[start : start + size]
        start += size
        token = enter(contexts[idx])
        try:
            body, content_type = handler.finish(handler.output_fn(part, accept), accept)
        except Exception as exc:
            outcomes[idx] = outcome_of(exc)
            continue
        finally:
            leave(token)
        custom = contexts[idx].response_headers.get(CUSTOM_ATTRIBUTES)
        outcomes[idx] = BatchOutcome(200, content_type, body, custom)
