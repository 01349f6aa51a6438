"""The XGBoost stack, for the framework image and the built-in algorithm image.

The model is the `xgboost-model` file (a pickled Booster or scikit-learn wrapper, or
XGBoost's own JSON/UBJSON/binary format). Requests are text/csv (the default),
text/libsvm or application/json (a list of rows); answers are CSV (the default:
predictions joined by commas, as the SageMaker container answers) or JSON.
An inference script's hooks override these defaults, as in the framework image.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from scipy.sparse import csr_matrix

from cove.instance.serving import codecs
from cove.instance.serving.base import ModelInvocationError
from cove.instance.serving.toolkit import ToolkitHandler

MODEL_FILE = "xgboost-model"
LIBSVM_TYPES = ("text/libsvm", "text/x-libsvm")
CONTENT_TYPES = (codecs.CSV, *LIBSVM_TYPES, codecs.JSON)


def load_booster(path: Path) -> xgb.Booster:
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f)
    except Exception:  # not a pickle: XGBoost's own formats
        booster = xgb.Booster()
        booster.load_model(bytearray(path.read_bytes()))  # the buffer's content picks the format
        return booster
    if isinstance(obj, xgb.Booster):
        return obj
    if hasattr(obj, "get_booster"):
        return obj.get_booster()
    raise TypeError(f"{path.name} holds a {type(obj).__name__}, not an XGBoost model")


def parse_libsvm(text: str) -> csr_matrix:
    """`[label] index:value ...` per line; the label, if present, is ignored."""
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for line in text.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        if ":" not in tokens[0]:
            tokens = tokens[1:]
        for token in tokens:
            index, _, value = token.partition(":")
            indices.append(int(index))
            data.append(float(value))
        indptr.append(len(data))
    width = max(indices, default=-1) + 1
    return csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, width))


class Handler(ToolkitHandler):
    default_accept = codecs.CSV

    def default_model_fn(self, model_dir: str) -> Any:
        path = Path(model_dir) / MODEL_FILE
        if not path.is_file():
            others = sorted(p.name for p in Path(model_dir).iterdir())
            raise FileNotFoundError(
                f"No {MODEL_FILE} file in the model archive (it holds: {', '.join(others)})"
            )
        return load_booster(path)

    def default_input_fn(self, data: bytes | str, content_type: str) -> Any:
        kind = codecs.media_type(content_type) or codecs.CSV
        text = data.decode() if isinstance(data, bytes) else data
        if not text.strip():
            raise ModelInvocationError(400, "The request body is empty")
        try:
            if kind == codecs.CSV:
                return xgb.DMatrix(codecs.decode(text, codecs.CSV))
            if kind in LIBSVM_TYPES:
                return xgb.DMatrix(parse_libsvm(text))
            if kind == codecs.JSON:
                return xgb.DMatrix(np.atleast_2d(np.array(json.loads(text), dtype=float)))
        except (ValueError, TypeError) as exc:
            raise ModelInvocationError(400, f"Could not parse the {kind} body: {exc}") from exc
        raise codecs.unsupported_content_type(kind, CONTENT_TYPES)

    def default_predict_fn(self, data: Any, model: Any) -> Any:
        try:
            return model.predict(data, validate_features=False)
        except xgb.core.XGBoostError as exc:
            raise ModelInvocationError(400, str(exc).splitlines()[0]) from exc

    def default_output_fn(self, prediction: Any, accept: str) -> Any:
        kind = codecs.media_type(accept)
        if kind == codecs.CSV:
            rows = np.asarray(prediction).tolist()
            cells = (",".join(map(str, r)) if isinstance(r, list) else str(r) for r in rows)
            sep = "\n" if np.ndim(prediction) > 1 else ","
            return sep.join(cells).encode(), codecs.CSV
        if kind == codecs.JSON:
            return codecs.encode(prediction, codecs.JSON), codecs.JSON
        raise codecs.unsupported_accept(kind, (codecs.CSV, codecs.JSON))
