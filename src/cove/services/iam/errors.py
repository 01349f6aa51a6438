"""Identity failures as IAM answers them. Codes and statuses are IAM's (IAM API reference,
"Common Errors" and each action's Errors section); the texts are the ones IAM sends, as
recorded from AWS (e.g. "The user with name bob cannot be found.", "Cannot exceed quota
for AccessKeysPerUser: 2", "Cannot delete entity, must detach all policies first.", a
missing permissions boundary's "Scope ARN: arn:... does not exist or is not attachable.",
"Duplicate tag keys found. Please note that Tag keys are case insensitive.")."""

from __future__ import annotations

from dataclasses import dataclass

from cove.errors import AwsError
from cove.identity.errors import IdentityError
from cove.identity.errors import IdentityFailure as F


@dataclass(frozen=True)
class WireError:
    code: str
    status: int
    message: str  # formatted with the failure's details (and Title: the Kind capitalized)


def _conflict(message: str) -> WireError:
    return WireError("DeleteConflict", 409, message)


def _limit(message: str) -> WireError:
    return WireError("LimitExceeded", 409, message)


def _missing(message: str) -> WireError:
    return WireError("NoSuchEntity", 404, message)


WIRE_ERRORS: dict[F, WireError] = {
    F.NO_SUCH_ENTITY: _missing("The {Kind} with name {Name} cannot be found."),
    F.ENTITY_EXISTS: WireError(
        "EntityAlreadyExists", 409, "{Title} with name {Name} already exists."
    ),
    F.NO_SUCH_ACCESS_KEY: _missing("The Access Key with id {AccessKeyId} cannot be found."),
    F.TOO_MANY_ACCESS_KEYS: _limit("Cannot exceed quota for AccessKeysPerUser: 2"),
    F.TOO_MANY_TAGS: _limit("The number of tags has reached the maximum limit."),
    F.DUPLICATE_TAG_KEYS: WireError(
        "InvalidInput", 400,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    ),  # fmt: skip
    F.NOT_A_USER: WireError(
        "ValidationError", 400, "Must specify userName when calling with non-User credentials"
    ),
    F.HAS_ACCESS_KEYS: _conflict("Cannot delete entity, must delete access keys first."),
    F.HAS_INLINE_POLICIES: _conflict("Cannot delete entity, must delete policies first."),
    F.HAS_ATTACHED_POLICIES: _conflict("Cannot delete entity, must detach all policies first."),
    F.HAS_GROUP_MEMBERSHIPS: _conflict("Cannot delete entity, must remove users from group first."),
    F.POLICY_EXISTS: WireError(
        "EntityAlreadyExists",
        409,
        "A policy called {Name} already exists. Duplicate names are not allowed.",
    ),  # fmt: skip
    F.NO_SUCH_POLICY: _missing("Policy {Arn} does not exist or is not attachable."),
    F.POLICY_NOT_FOUND: _missing("Policy {Arn} was not found."),
    F.NO_SUCH_POLICY_VERSION: _missing(
        "Policy {Arn} version {VersionId} does not exist or is not attachable."
    ),
    F.POLICY_ATTACHED: _conflict("Cannot delete a policy attached to entities."),
    F.POLICY_HAS_VERSIONS: _conflict(
        "This policy has more than one version. Before you delete a policy, you must delete "
        "the policy's versions. The default version is deleted with the policy."
    ),
    F.DEFAULT_VERSION: _conflict("Cannot delete the default version of a policy."),
    F.TOO_MANY_VERSIONS: _limit(
        "A managed policy can have up to 5 versions. Before you create a new version, you "
        "must delete an existing version."
    ),
    F.TOO_MANY_ATTACHED: _limit("Cannot exceed quota for {Quota}: 10"),
    F.TOO_MANY_GROUPS: _limit("Cannot exceed quota for GroupsPerUser: 10"),
    F.AWS_MANAGED: WireError("AccessDenied", 403, "Cannot {Verb} outside your own account."),
    F.POLICY_TOO_LARGE: _limit("Cannot exceed quota for PolicySize: 6144"),
    F.NO_SUCH_BOUNDARY: _missing("Scope ARN: {Arn} does not exist or is not attachable."),
    F.NO_SUCH_INLINE_POLICY: _missing("The {Kind} policy with name {Name} cannot be found."),
    F.INLINE_TOO_LARGE: _limit("Maximum policy size of {Limit} bytes exceeded for {Kind} {Name}"),
    F.TRUST_TOO_LARGE: _limit("Cannot exceed quota for ACLSizePerRole: 2048"),
}


def identity_error(err: IdentityError) -> AwsError:
    wire = WIRE_ERRORS[err.failure]
    details = {**err.details, "Title": err.details.get("Kind", "").capitalize()}
    return AwsError(wire.code, wire.message.format(**details), wire.status)
