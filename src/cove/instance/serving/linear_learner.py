"""The built-in linear-learner algorithm's serving stack.

Requests, as documented for SageMaker's built-in algorithms: `text/csv` (one record per
line, features only), `application/json` (`{"instances": [{"features": [...]}, ...]}`,
`{"instances": [{"data": {"features": {"values": [...]}}}]}`, or one record as
`{"features": [...]}`; sparse records give `keys` and `shape` beside `values`) and
`application/jsonlines` (one such record per line) and `application/x-recordio-protobuf`
(what the SageMaker SDK's predictor sends). Answers are `application/json` (default)
`{"predictions": [{"score": s, "predicted_label": l}, ...]}`, `application/jsonlines` or
RecordIO records with `score` and `predicted_label` label tensors; regressors answer
`score` only, multiclass models a score per class.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cove.formats import recordio
from cove.formats.linear_model import (
    REGRESSOR,
    LinearModel,
    ModelFormatError,
)
from cove.instance.serving import codecs
from cove.instance.serving.base import ModelInvocationError

JSONLINES = "application/jsonlines"
RECORDIO = "application/x-recordio-protobuf"
CONTENT_TYPES = (codecs.CSV, codecs.JSON, JSONLINES, RECORDIO)
ACCEPT_TYPES = (codecs.JSON, JSONLINES, RECORDIO)


def _bad_request(message: str) -> ModelInvocationError:
    return ModelInvocationError(400, message)


def _dense(record: Any, dim: int) -> list[float]:
    """One record's features from any documented JSON form."""
    if isinstance(record, list):
        return record
    if not isinstance(record, dict):
        raise _bad_request(f"Each record must be a JSON object or list, got {record!r:.80}")
    if "data" in record:
        record = record["data"]
    features = record.get("features")
    if features is None:
        raise _bad_request('Each record needs "features" (e.g. {"features": [1.5, 16.0]})')
    if isinstance(features, dict):  # {"values": [...], "keys": [...], "shape": [n]}
        values = features.get("values")
        if not isinstance(values, list):
            raise _bad_request('"features" given as an object needs a "values" list')
        keys = features.get("keys")
        if not keys:
            return values
        width = (features.get("shape") or [dim])[0]
        dense = [0.0] * int(width)
        try:
            for key, value in zip(keys, values, strict=True):
                dense[int(key)] = value
        except (ValueError, IndexError) as exc:
            raise _bad_request(f"Sparse record keys do not fit its shape: {exc}") from None
        return dense
    if not isinstance(features, list):
        raise _bad_request('"features" must be a list of numbers')
    return features


def _json_records(doc: Any, dim: int) -> list[list[float]]:
    if isinstance(doc, dict) and "instances" in doc:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise _bad_request('"instances" must be a list of records')
        return [_dense(r, dim) for r in instances]
    if isinstance(doc, list) and doc and all(isinstance(r, list) for r in doc):
        return doc  # a plain matrix, as the framework containers accept
    return [_dense(doc, dim)]


def parse(body: bytes, content_type: str, dim: int) -> np.ndarray:
    """A request body as a (records, features) matrix, or a 4xx ModelInvocationError."""
    kind = codecs.media_type(content_type) or codecs.CSV
    if kind not in CONTENT_TYPES:
        raise codecs.unsupported_content_type(kind, CONTENT_TYPES)
    if kind == RECORDIO:
        return _check_width(_parse_recordio(body), dim)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_request(f"The {kind} request body is not UTF-8 text") from None
    if not text.strip():
        raise _bad_request("The request body is empty")
    try:
        if kind == codecs.CSV:
            rows = [
                [float(v) for v in line.split(",")] for line in text.splitlines() if line.strip()
            ]
        elif kind == codecs.JSON:
            rows = _json_records(json.loads(text), dim)
        else:  # JSON lines
            rows = [
                r
                for line in text.splitlines()
                if line.strip()
                for r in _json_records(json.loads(line), dim)
            ]
        widths = sorted({len(r) for r in rows})
        if len(widths) != 1:
            raise _bad_request(f"Records have different numbers of features: {widths}")
        matrix = np.asarray(rows, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise _bad_request(f"Could not parse the {kind} request body: {exc}") from None
    return _check_width(matrix, dim)


def _parse_recordio(body: bytes) -> np.ndarray:
    try:
        features, _ = recordio.to_arrays(recordio.read_records(body))
    except recordio.RecordIOError as exc:
        raise _bad_request(f"Could not parse the {RECORDIO} request body: {exc}") from None
    return features


def _check_width(matrix: np.ndarray, dim: int) -> np.ndarray:
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        got = matrix.shape[1] if matrix.ndim == 2 else 0
        raise _bad_request(f"This model expects {dim} features per record; the request has {got}")
    if not np.all(np.isfinite(matrix)):
        raise _bad_request("The request contains NaN or infinite feature values")
    return matrix


class Handler:
    """Loads `linear-learner-model.json` from the model dir; answers as documented."""

    def __init__(self, model_dir: Path, environment: dict[str, str]) -> None:
        try:
            self.model = LinearModel.load(Path(model_dir))
        except ModelFormatError as exc:
            raise RuntimeError(f"Cannot load the linear-learner model: {exc}") from None

    def predictions(self, features: np.ndarray) -> list[dict[str, Any]]:
        scores = self.model.score(features)
        if self.model.predictor_type == REGRESSOR:
            return [{"score": float(s)} for s in scores]
        labels = self.model.predicted_label(scores)
        return [
            {
                "score": s.tolist() if isinstance(s, np.ndarray) else float(s),
                "predicted_label": int(label),
            }
            for s, label in zip(scores, labels, strict=True)
        ]

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        wanted = codecs.media_type(accept)
        if wanted in ("", codecs.ANY, "application/*"):
            wanted = codecs.JSON
        if wanted not in ACCEPT_TYPES:
            raise codecs.unsupported_accept(wanted, ACCEPT_TYPES)
        predictions = self.predictions(parse(body, content_type, self.model.feature_dim))
        if wanted == RECORDIO:
            return recordio.encode_label_records(predictions), RECORDIO
        if wanted == JSONLINES:
            lines = "\n".join(json.dumps(p) for p in predictions)
            return (lines + "\n").encode(), JSONLINES
        return json.dumps({"predictions": predictions}).encode(), codecs.JSON
