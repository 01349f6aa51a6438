"""Which built-in algorithm a `AlgorithmSpecification.TrainingImage` selects.

SageMaker's image URIs from any account and region (`<account>.dkr.ecr.<region>.
amazonaws.com[.cn]/linear-learner:1`, `.../xgboost:latest`, the framework image
`.../sagemaker-xgboost:1.7-1`, optionally by digest) and the short aliases
`linear-learner` and `xgboost` (with an optional `:tag`)."""

from __future__ import annotations

import re

from cove.protocol.errors import validation_error

ALGORITHMS = {
    "linear-learner": "linear-learner",
    "xgboost": "xgboost",
    "sagemaker-xgboost": "xgboost",
}

_ECR = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9._/-]+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$"
)
_ALIAS = re.compile(r"^(?P<repo>[a-z-]+)(?::[\w.-]+)?$")


def algorithm_for(image: str) -> str:
    """The algorithm name for `image`, or a ValidationException saying what Cove runs."""
    match = _ECR.match(image) or _ALIAS.match(image)
    repo = match.group("repo").rsplit("/", 1)[-1] if match else None
    if repo in ALGORITHMS:
        return ALGORITHMS[repo]
    raise validation_error(
        f"Cove cannot run the training image {image}: it runs SageMaker's built-in "
        "linear-learner and XGBoost algorithms, by their image URI "
        "(<account>.dkr.ecr.<region>.amazonaws.com/linear-learner:1, .../xgboost:1, "
        ".../sagemaker-xgboost:1.7-1) or the aliases linear-learner and xgboost."
    )
