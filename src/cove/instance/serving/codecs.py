"""The framework containers' default payload handling: text/csv, application/json and
application/x-npy in and out, as numpy arrays."""

from __future__ import annotations

import functools
import io
import json
from typing import Any

import numpy as np

from cove.instance.serving.base import ModelInvocationError

CSV = "text/csv"
JSON = "application/json"
NPY = "application/x-npy"
ANY = "*/*"
UTF8_TYPES = (CSV, JSON)


@functools.lru_cache(maxsize=256)  # a handful of distinct values, asked several times a call
def media_type(header: str | None) -> str:
    """`text/csv; charset=utf-8` -> `text/csv`."""
    return (header or "").split(";", 1)[0].strip().lower()


def unsupported_content_type(content_type: str, supported: tuple[str, ...]) -> Exception:
    return ModelInvocationError(
        415,
        f"Content type {content_type or '(none)'} is not supported by this model. "
        f"Supported content types: {', '.join(supported)}",
    )


def unsupported_accept(accept: str, supported: tuple[str, ...]) -> Exception:
    return ModelInvocationError(
        406,
        f"Accept type {accept} is not supported by this model. "
        f"Supported accept types: {', '.join(supported)}",
    )


def decode(data: bytes | str, content_type: str) -> np.ndarray:
    """A request body as an array. CSV rows are records, so one line is a 1-row matrix
    (the containers hand estimators a 1-D array there, which they reject)."""
    kind = media_type(content_type)
    try:
        if kind == CSV:
            return _decode_csv(data.decode() if isinstance(data, bytes) else data)
        if kind == JSON:
            return np.array(json.loads(data))
        if kind == NPY:
            raw = data.encode() if isinstance(data, str) else data
            return np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelInvocationError(400, f"Could not parse the {kind} request body: {exc}") from exc
    raise unsupported_content_type(kind, (CSV, JSON, NPY))


def _decode_csv(text: str) -> np.ndarray:
    rows = [ln for ln in text.splitlines() if ln.strip()]
    try:
        # plain numbers in equal rows, the common case, parse ~30x faster this way
        return np.array([row.split(",") for row in rows], dtype=np.float64).reshape(len(rows), -1)
    except ValueError:
        # genfromtxt, as the containers use: empty fields become nan, ragged rows fail
        return np.atleast_2d(np.genfromtxt(io.StringIO("\n".join(rows)), delimiter=","))


def _to_jsonable(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def encode(prediction: Any, accept: str) -> bytes:
    kind = media_type(accept)
    if kind == JSON:
        return json.dumps(prediction, default=_to_jsonable).encode()
    if kind == CSV:
        array = np.asarray(prediction)
        out = io.StringIO()
        np.savetxt(out, np.atleast_1d(array), delimiter=",", fmt="%s")
        return out.getvalue().encode()
    if kind == NPY:
        out_b = io.BytesIO()
        np.save(out_b, np.asarray(prediction), allow_pickle=False)
        return out_b.getvalue()
    raise unsupported_accept(kind, (JSON, CSV, NPY))
