"""API Gateway's identifiers: lowercase letters and digits, ten for a REST API (and its
root resource), six for a resource or a deployment (as `a1b2c3d4e5` / `x9y8z7` look in
AWS's answers)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_api_id() -> str:
    return new_id(10)


def new_resource_id() -> str:
    return new_id(6)


def new_deployment_id() -> str:
    return new_id(6)
