"""Why an identity call failed, typed; the IAM front end maps each to IAM's wire error
(cove.services.iam.errors). `details` name what the failure concerns (Kind, Name, Arn,
...) and fill in IAM's message."""

from __future__ import annotations

from enum import Enum, auto


class IdentityFailure(Enum):
    NO_SUCH_ENTITY = auto()  # Kind, Name
    ENTITY_EXISTS = auto()  # Kind, Name
    NO_SUCH_ACCESS_KEY = auto()
    TOO_MANY_ACCESS_KEYS = auto()
    TOO_MANY_TAGS = auto()
    DUPLICATE_TAG_KEYS = auto()  # two tags whose keys differ in case at most
    NOT_A_USER = auto()  # the call needs a user name and the caller is no IAM user
    # what must go before an entity can be deleted
    HAS_ACCESS_KEYS = auto()
    HAS_INLINE_POLICIES = auto()
    HAS_ATTACHED_POLICIES = auto()
    HAS_GROUP_MEMBERSHIPS = auto()  # a group with users, a user in groups
    # managed policies
    POLICY_EXISTS = auto()  # Name
    NO_SUCH_POLICY = auto()  # Arn: to attach, or a version of
    POLICY_NOT_FOUND = auto()  # Arn: to get, delete or detach
    NO_SUCH_POLICY_VERSION = auto()  # Arn, VersionId
    POLICY_ATTACHED = auto()
    POLICY_HAS_VERSIONS = auto()
    DEFAULT_VERSION = auto()
    TOO_MANY_VERSIONS = auto()
    TOO_MANY_ATTACHED = auto()  # Quota
    TOO_MANY_GROUPS = auto()
    AWS_MANAGED = auto()  # Verb: an AWS managed policy cannot be changed
    POLICY_TOO_LARGE = auto()
    NO_SUCH_BOUNDARY = auto()  # Arn: no managed policy to set as a permissions boundary
    # inline and trust policies
    NO_SUCH_INLINE_POLICY = auto()  # Kind, Name
    INLINE_TOO_LARGE = auto()  # Kind, Name, Limit
    TRUST_TOO_LARGE = auto()


class IdentityError(Exception):
    def __init__(self, failure: IdentityFailure, **details: str) -> None:
        super().__init__(f"{failure.name} {details}")
        self.failure = failure
        self.details = details
