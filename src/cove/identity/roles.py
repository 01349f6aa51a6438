"""What a role has beyond a name: the trust policy saying who may assume it, a description
and the longest session it grants (IAM API reference, "CreateRole": MaxSessionDuration
3,600 to 43,200 seconds, default 3,600; the trust policy at most 2,048 characters without
whitespace by default, "Cannot exceed quota for ACLSizePerRole: 2048")."""

from __future__ import annotations

from dataclasses import dataclass

from cove.iam.documents import (
    ROLE_TRUST_POLICY_MAX_SIZE,
    PolicyKind,
    invalid_principal,
    malformed,
    parse_policy,
    policy_size,
)
from cove.iam.principals import Identities, unknown_principal
from cove.identity.entities import Entity
from cove.identity.errors import IdentityError, IdentityFailure

DEFAULT_MAX_SESSION = 3600

TRUST = "AssumeRolePolicyDocument"
DESCRIPTION = "Description"
MAX_SESSION = "MaxSessionDuration"


def check_trust_policy(document: str, identities: Identities) -> None:
    """MalformedPolicyDocument or LimitExceeded unless IAM would keep `document` as a
    role's trust policy; a user or role of the account that it names must exist, IAM
    naming the first that does not (`cove.iam.principals` says which are looked up)."""
    policy = parse_policy(document, PolicyKind.TRUST)
    if policy_size(document) > ROLE_TRUST_POLICY_MAX_SIZE:
        raise IdentityError(IdentityFailure.TRUST_TOO_LARGE)
    for statement in policy.statements:
        arn = unknown_principal(statement, identities)
        if arn is not None:
            raise malformed(invalid_principal("AWS", arn))


@dataclass(frozen=True)
class RoleView:
    """A role entity's attributes, typed."""

    entity: Entity

    @property
    def trust_policy(self) -> str:
        return str(self.entity.attributes[TRUST])

    @property
    def description(self) -> str | None:
        return self.entity.attributes.get(DESCRIPTION)

    @property
    def max_session(self) -> int:
        return int(self.entity.attributes.get(MAX_SESSION, DEFAULT_MAX_SESSION))
