"""Why an identity call failed, typed; the IAM front end maps each to IAM's wire error
(cove.services.iam.errors)."""

from __future__ import annotations

from enum import Enum, auto


class IdentityFailure(Enum):
    NO_SUCH_USER = auto()
    USER_EXISTS = auto()
    NO_SUCH_ACCESS_KEY = auto()
    TOO_MANY_ACCESS_KEYS = auto()
    USER_HAS_ACCESS_KEYS = auto()  # a user is deleted only once its keys are
    TOO_MANY_TAGS = auto()
    NOT_A_USER = auto()  # the call needs a user name and the caller is no IAM user


class IdentityError(Exception):
    """`failure` says what went wrong; `details` name what it concerns."""

    def __init__(self, failure: IdentityFailure, **details: str) -> None:
        super().__init__(f"{failure.name} {details}")
        self.failure = failure
        self.details = details
