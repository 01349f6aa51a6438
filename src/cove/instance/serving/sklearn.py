"""The scikit-learn framework stack: `model.joblib` (or a pickle) in the model directory,
or whatever the inference script's `model_fn` loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np

from cove.instance.serving import codecs
from cove.instance.serving.toolkit import ToolkitHandler

MODEL_FILES = ("model.joblib", "model.pkl", "model.pickle", "model.sav")


class Handler(ToolkitHandler):
    default_accept = codecs.JSON

    def default_model_fn(self, model_dir: str) -> Any:
        for name in MODEL_FILES:
            path = Path(model_dir) / name
            if path.is_file():
                return joblib.load(path)
        raise FileNotFoundError(
            f"No model file in the model archive: expected one of {', '.join(MODEL_FILES)} "
            "at its top level, or code/inference.py with a model_fn"
        )

    def default_input_fn(self, data: bytes | str, content_type: str) -> Any:
        array = codecs.decode(data, content_type)
        # as the container does: text payloads become float32 features
        if codecs.media_type(content_type) in codecs.UTF8_TYPES:
            return array.astype(np.float32)
        return array
