"""The principals of a policy that must name an identity that exists.

IAM keeps a user or role principal as that identity's unique id when it keeps a policy
(a trust policy, an S3 bucket policy), so it refuses a policy naming a user or role that
has none: it does not exist, or not at the path the ARN gives (IAM User Guide, "AWS JSON
policy elements: Principal", IAM user and IAM role principals; AWS knowledge center,
"Invalid principal in policy"). What names no entity is kept as written: "*", an account
(its root ARN or bare id), services, federated providers and role sessions (any session
name). So are other accounts' users and roles: AWS looks those up in their own account,
which Cove, holding one account, does not have; such a principal matches no caller of
Cove either way. Each caller words the refusal as its service does."""

from __future__ import annotations

from typing import Protocol

from cove.iam.documents import Statement


class Identities(Protocol):
    """The users and roles of one account (the identity directory)."""

    account_id: str

    def identity_by_arn(self, arn: str) -> object | None:
        """The user or role `arn` names in this account, or None."""
        ...


def unknown_principal(statement: Statement, identities: Identities) -> str | None:
    """The first user or role ARN of `identities`' account that the statement's Principal
    or NotPrincipal names and that does not exist, as written; None when there is none."""
    account = f"arn:aws:iam::{identities.account_id}:"
    own = (account + "user/", account + "role/")
    for principals in (statement.principals, statement.not_principals):
        for arn in principals.aws if principals is not None else ():
            if arn.startswith(own) and identities.identity_by_arn(arn) is None:
                return arn
    return None
