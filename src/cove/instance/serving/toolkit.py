"""The SageMaker inference toolkit convention, shared by the framework stacks.

A model archive may carry `code/inference.py` (or the file named by SAGEMAKER_PROGRAM)
defining `model_fn(model_dir)`, `input_fn(data, content_type)`,
`predict_fn(data, model)`, `output_fn(prediction, accept)` or instead
`transform_fn(model, data, content_type, accept)`. Missing hooks fall back to the stack's
defaults. Like the toolkit, a hook declared with one extra parameter also receives the
request context (`cove.instance.serving.context.InvocationContext`).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from cove.instance.serving import codecs
from cove.instance.serving.context import current

Hook = Callable[..., Any]


def load_script(model_dir: Path, environment: dict[str, str]) -> ModuleType | None:
    """Import the model's inference script, if it has one, with `code/` importable."""
    program = environment.get("SAGEMAKER_PROGRAM") or "inference.py"
    code_dir = model_dir / "code"
    path = code_dir / program
    if not path.is_file():
        return None
    sys.path.insert(0, str(code_dir))
    name = Path(program).stem
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _bind(fn: Hook, nargs: int) -> Hook:
    """Call `fn` with `nargs` arguments, adding the request context if it takes one more;
    decided once at load time so the request path does no introspection."""
    try:
        params = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return fn
    if params == nargs + 1:
        return lambda *args: fn(*args, current())
    if params != nargs:
        raise TypeError(f"{fn.__name__} takes {params} arguments but {nargs} are given")
    return fn


class ToolkitHandler:
    """A ModelHandler that runs the toolkit's workflow with this stack's default hooks."""

    default_accept = codecs.JSON

    def __init__(self, model_dir: Path, environment: dict[str, str]) -> None:
        script = load_script(model_dir, environment)
        hook = lambda name, default: getattr(script, name, None) or default  # noqa: E731
        transform_fn = getattr(script, "transform_fn", None)
        overrides = [n for n in ("input_fn", "predict_fn", "output_fn") if hasattr(script, n)]
        if transform_fn is not None and overrides:
            raise ValueError(
                "Cannot use transform_fn implementation in conjunction with "
                f"{', '.join(overrides)} in the inference script"
            )
        self.accept = (
            environment.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
            or os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
            or self.default_accept
        )
        self.input_fn = _bind(hook("input_fn", self.default_input_fn), 2)
        self.predict_fn = _bind(hook("predict_fn", self.default_predict_fn), 2)
        self.output_fn = _bind(hook("output_fn", self.default_output_fn), 2)
        self.transform_fn = _bind(transform_fn, 4) if transform_fn else self._transform
        # Batches may run input_fn/predict_fn/output_fn over many requests at once;
        # a transform_fn is opaque, so its requests are always run one by one.
        self.row_wise = transform_fn is None
        self.model = _bind(hook("model_fn", self.default_model_fn), 1)(str(model_dir))

    # -- the stack's defaults ------------------------------------------------------
    def default_model_fn(self, model_dir: str) -> Any:
        raise NotImplementedError("Please provide a model_fn implementation in inference.py")

    def default_input_fn(self, data: bytes | str, content_type: str) -> Any:
        return codecs.decode(data, content_type)

    def default_predict_fn(self, data: Any, model: Any) -> Any:
        return model.predict(data)

    def default_output_fn(self, prediction: Any, accept: str) -> Any:
        return codecs.encode(prediction, accept), codecs.media_type(accept)

    # -- the workflow --------------------------------------------------------------
    def _transform(self, model: Any, data: Any, content_type: str, accept: str) -> Any:
        return self.output_fn(self.predict_fn(self.input_fn(data, content_type), model), accept)

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        data, accept = self.prepare(body, content_type, accept)
        return self.finish(self.transform_fn(self.model, data, content_type, accept), accept)

    # -- the steps of `invoke`, shared with the batch workflow -----------------------
    def prepare(self, body: bytes, content_type: str, accept: str) -> tuple[bytes | str, str]:
        """The payload as input_fn receives it, and the accept type to answer with."""
        if not accept or codecs.media_type(accept) == codecs.ANY:
            accept = self.accept
        data: bytes | str = body
        if codecs.media_type(content_type) in codecs.UTF8_TYPES:
            data = body.decode("utf-8")
        return data, accept

    def finish(self, result: Any, accept: str) -> tuple[bytes, str]:
        """Turn what output_fn (or transform_fn) returned into response bytes and type."""
        response_type = accept
        if isinstance(result, tuple):
            result, response_type = result
        if isinstance(result, str):
            return result.encode(), response_type
        if isinstance(result, bytes | bytearray | memoryview):
            return bytes(result), response_type
        return codecs.encode(result, accept), response_type
