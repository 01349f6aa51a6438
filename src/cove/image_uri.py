"""SageMaker container image names: ECR URIs of any account and region
(`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`) and short aliases (`<repo>[:tag]`)."""

from __future__ import annotations

import re

_ECR = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9._/-]+?)(?::(?P<tag>[\w.-]+))?(?:@sha256:[0-9a-f]{64})?$"
)
_ALIAS = re.compile(r"^(?P<repo>[a-z-]+)(?::(?P<tag>[\w.-]+))?$")


def repository(image: str) -> str | None:
    """The repository's last path segment (`sagemaker-xgboost`, `linear-learner`, ...), or
    None when `image` is neither an ECR image URI nor an alias."""
    match = _ECR.match(image) or _ALIAS.match(image)
    return match.group("repo").rsplit("/", 1)[-1] if match else None
