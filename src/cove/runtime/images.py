"""Which serving stack runs a `PrimaryContainer.Image`.

Recognised images:

* SageMaker ECR image URIs from any account and region, by repository name
  (`<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3`,
  `.../sagemaker-xgboost:1.7-1`, the built-in algorithms `.../xgboost:1` and
  `.../linear-learner:1`), and the short aliases `sklearn`, `scikit-learn`, `xgboost`,
  `linear-learner` (optionally with a `:tag`). These run Cove's in-process stacks in
  `cove.instance.serving`.
* Bring-your-own-container as a local executable: an absolute path (`/opt/bin/server`),
  `file:///opt/bin/server` or `local:/opt/bin/server`. Cove starts it like SageMaker starts
  a container (`<exe> serve`; see `cove.runtime.launch`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cove.image_uri import repository


class UnsupportedImage(ValueError):
    """str(exc) says why, in words fit for an endpoint's FailureReason."""


@dataclass(frozen=True)
class ServingImage:
    image: str
    stack: str  # human name: "scikit-learn", "xgboost", "linear-learner", "command"
    module: str | None = None  # in-process stack: module under cove.instance.serving
    executable: Path | None = None  # bring-your-own-container

    @property
    def is_command(self) -> bool:
        return self.executable is not None


_STACK_MODULES = {
    "scikit-learn": "cove.instance.serving.sklearn",
    "xgboost": "cove.instance.serving.xgboost",
    "linear-learner": "cove.instance.serving.linear_learner",
}

# ECR repository or alias -> stack
_REPOSITORIES = {
    "sagemaker-scikit-learn": "scikit-learn",
    "sklearn": "scikit-learn",
    "scikit-learn": "scikit-learn",
    "sagemaker-xgboost": "xgboost",  # framework image
    "xgboost": "xgboost",  # built-in algorithm image, and the alias
    "linear-learner": "linear-learner",
}

# Well-known SageMaker repositories Cove cannot run yet, so the reason names the framework.
_KNOWN_UNSUPPORTED = {
    "pytorch-inference": "PyTorch",
    "sagemaker-pytorch": "PyTorch",
    "tensorflow-inference": "TensorFlow",
    "sagemaker-tensorflow-serving": "TensorFlow",
    "mxnet-inference": "MXNet",
    "huggingface-pytorch-inference": "Hugging Face",
    "huggingface-pytorch-tgi-inference": "Hugging Face TGI",
    "djl-inference": "DJL",
    "sagemaker-sparkml-serving": "SparkML",
}


def supported_summary() -> str:
    return (
        "Cove runs the scikit-learn, XGBoost and linear-learner SageMaker images (or the "
        "aliases sklearn, xgboost, linear-learner) and local executables given as an "
        "absolute path, file:///path or local:/path"
    )


def _unsupported(image: str, why: str) -> UnsupportedImage:
    return UnsupportedImage(f"Image {image} is not one Cove can run: {why}. {supported_summary()}.")


def resolve(image: str) -> ServingImage:
    """Map an image string to the stack that serves it, or raise UnsupportedImage."""
    command = _command_path(image)
    if command is not None:
        return _command_image(image, command)
    repo = repository(image)
    if repo is None:
        raise _unsupported(image, "it is neither a SageMaker image URI nor a local executable")
    stack = _REPOSITORIES.get(repo)
    if stack is not None:
        return ServingImage(image, stack, module=_STACK_MODULES[stack])
    framework = _KNOWN_UNSUPPORTED.get(repo)
    if framework is not None:
        raise _unsupported(image, f"{framework} serving is not available in Cove yet")
    raise _unsupported(image, f"repository {repo!r} is not a serving image Cove knows")


def _command_path(image: str) -> Path | None:
    for prefix in ("file://", "local:"):
        if image.startswith(prefix):
            return Path(image[len(prefix) :])
    return Path(image) if image.startswith("/") else None


def _command_image(image: str, path: Path) -> ServingImage:
    if not path.is_absolute():
        raise _unsupported(image, f"the executable path {path} must be absolute")
    if not path.is_file():
        raise _unsupported(image, f"no executable file at {path}")
    if not os.access(path, os.X_OK):
        raise _unsupported(image, f"{path} is not executable (chmod +x it)")
    return ServingImage(image, "command", executable=path)
