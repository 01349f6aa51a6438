"""Identity failures as IAM answers them. Codes and statuses are IAM's (IAM API reference,
"Common Errors" and each action's Errors section); the texts are the ones IAM sends, e.g.
"The user with name bob cannot be found." and "Cannot exceed quota for AccessKeysPerUser: 2"."""

from __future__ import annotations

from dataclasses import dataclass

from cove.errors import AwsError
from cove.identity.errors import IdentityError, IdentityFailure


@dataclass(frozen=True)
class WireError:
    code: str
    status: int
    message: str  # formatted with the failure's details


WIRE_ERRORS: dict[IdentityFailure, WireError] = {
    IdentityFailure.NO_SUCH_USER: WireError(
        "NoSuchEntity", 404, "The user with name {UserName} cannot be found."
    ),
    IdentityFailure.USER_EXISTS: WireError(
        "EntityAlreadyExists", 409, "User with name {UserName} already exists."
    ),
    IdentityFailure.NO_SUCH_ACCESS_KEY: WireError(
        "NoSuchEntity", 404, "The Access Key with id {AccessKeyId} cannot be found."
    ),
    IdentityFailure.TOO_MANY_ACCESS_KEYS: WireError(
        "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2"
    ),
    IdentityFailure.USER_HAS_ACCESS_KEYS: WireError(
        "DeleteConflict", 409, "Cannot delete entity, must delete access keys first."
    ),
    IdentityFailure.TOO_MANY_TAGS: WireError(
        "LimitExceeded", 409, "The number of tags has reached the maximum limit."
    ),
    IdentityFailure.NOT_A_USER: WireError(
        "ValidationError", 400, "Must specify userName when calling with non-User credentials"
    ),
}


def identity_error(err: IdentityError) -> AwsError:
    wire = WIRE_ERRORS[err.failure]
    return AwsError(wire.code, wire.message.format(**err.details), wire.status)
