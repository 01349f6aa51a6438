"""Which built-in algorithm a `AlgorithmSpecification.TrainingImage` selects.

SageMaker's image URIs from any account and region (`<account>.dkr.ecr.<region>.
amazonaws.com[.cn]/linear-learner:1`, `.../xgboost:latest`, the framework image
`.../sagemaker-xgboost:1.7-1`, optionally by digest) and the short aliases
`linear-learner` and `xgboost` (with an optional `:tag`)."""

from __future__ import annotations

from cove.errors import validation_error
from cove.image_uri import repository

ALGORITHMS = {
    "linear-learner": "linear-learner",
    "xgboost": "xgboost",
    "sagemaker-xgboost": "xgboost",
}


def algorithm_for(image: str) -> str:
    """The algorithm name for `image`, or a ValidationException saying what Cove runs."""
    repo = repository(image)
    if repo in ALGORITHMS:
        return ALGORITHMS[repo]
    raise validation_error(
        f"Cove cannot run the training image {image}: it runs SageMaker's built-in "
        "linear-learner and XGBoost algorithms, by their image URI "
        "(<account>.dkr.ecr.<region>.amazonaws.com/linear-learner:1, .../xgboost:1, "
        ".../sagemaker-xgboost:1.7-1) or the aliases linear-learner and xgboost."
    )
