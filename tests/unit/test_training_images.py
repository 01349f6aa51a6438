"""TrainingImage -> built-in algorithm."""

from __future__ import annotations

import pytest

from cove.errors import AwsError
from cove.jobs.training.images import algorithm_for


@pytest.mark.parametrize(
    ("image", "algorithm"),
    [
        ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", "linear-learner"),
        ("174872318107.dkr.ecr.us-west-2.amazonaws.com/linear-learner:latest", "linear-learner"),
        ("390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/linear-learner:1", "linear-learner"),
        ("linear-learner", "linear-learner"),
        ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "xgboost"),
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "xgboost"),
        ("xgboost:1.7-1", "xgboost"),
    ],
)
def test_recognised(image: str, algorithm: str) -> None:
    assert algorithm_for(image) == algorithm


@pytest.mark.parametrize(
    "image",
    ["683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1", "kmeans",
     "docker.io/library/python:3"],
)
def test_unsupported_images_are_refused_with_the_supported_list(image: str) -> None:
    with pytest.raises(AwsError) as err:
        algorithm_for(image)
    assert err.value.code == "ValidationException"
    assert "linear-learner" in err.value.message and "xgboost" in err.value.message.lower()
