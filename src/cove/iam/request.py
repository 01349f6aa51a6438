"""Who asks for what: the principal, the action, the resource and the request context."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache

from cove.iam.context import EMPTY_CONTEXT, ConditionContext, iso_time


class PrincipalKind(Enum):
    ROOT = "Account"  # the values of aws:PrincipalType
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"
    SERVICE = "Service"
    ANONYMOUS = "Anonymous"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    `arn` is the caller's own ARN: the account's root ARN, the user ARN, or for a role
    session `arn:aws:sts::<account>:assumed-role/<role>/<session>` (with the role's ARN
    in `role_arn`); a service principal's name such as `sagemaker.amazonaws.com`; or
    "anonymous". `user_id` is aws:userid: the account ID for root, the user's AIDA... ID,
    the role's AROA... ID and session name joined by a colon; None for anonymous.
    """

    kind: PrincipalKind
    arn: str
    account: str = ""
    role_arn: str | None = None
    user_id: str | None = None

    @classmethod
    def root(cls, account: str) -> Principal:
        return cls(PrincipalKind.ROOT, f"arn:aws:iam::{account}:root", account, user_id=account)

    @classmethod
    def user(cls, arn: str, user_id: str | None = None) -> Principal:
        return cls(PrincipalKind.USER, arn, arn.split(":")[4], user_id=user_id)

    @classmethod
    def assumed_role(cls, session_arn: str, role_arn: str, role_id: str | None = None) -> Principal:
        session = session_arn.rsplit("/", 1)[-1]
        user_id = f"{role_id}:{session}" if role_id else None
        return cls(
            PrincipalKind.ASSUMED_ROLE, session_arn, session_arn.split(":")[4], role_arn, user_id
        )

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls(PrincipalKind.SERVICE, name)

    @classmethod
    def anonymous(cls) -> Principal:
        """An unsigned request's: it has no aws:userid, aws:PrincipalArn or
        aws:PrincipalAccount, which only signed requests carry (IAM UG, "AWS global
        condition context keys")."""
        return cls(PrincipalKind.ANONYMOUS, "anonymous")

    @property
    def root_arn(self) -> str | None:
        return f"arn:aws:iam::{self.account}:root" if self.account else None

    @property
    def principal_arn(self) -> str | None:
        """aws:PrincipalArn: for a role session, the role's ARN."""
        if self.kind is PrincipalKind.ASSUMED_ROLE:
            return self.role_arn
        if self.kind in (PrincipalKind.ROOT, PrincipalKind.USER):
            return self.arn
        return None

    @property
    def name(self) -> str | None:
        """aws:username: present for IAM users only."""
        return self.arn.rsplit("/", 1)[-1] if self.kind is PrincipalKind.USER else None


@dataclass(frozen=True)
class Request:
    """One authorization question. `resource_account` is the account owning the resource,
    None for the principal's own; the question is cross-account when they differ."""

    principal: Principal
    action: str
    resource: str = "*"
    context: ConditionContext = field(default=EMPTY_CONTEXT)
    resource_account: str | None = None

    @property
    def cross_account(self) -> bool:
        return self.resource_account is not None and self.resource_account != self.principal.account


def standard_context(
    principal: Principal,
    *,
    secure_transport: bool = True,
    source_ip: str | None = None,
    now: datetime | None = None,
    request_tags: Mapping[str, str] | None = None,
    resource_tags: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> ConditionContext:
    """The global condition keys Cove knows for a request (IAM UG, "AWS global condition
    context keys"): aws:SecureTransport is always present, aws:SourceIp only when the
    request did not come through a VPC endpoint, aws:username only for IAM users."""
    now = now or datetime.now(UTC)
    values: dict[str, object] = {
        "aws:SecureTransport": secure_transport,
        "aws:CurrentTime": iso_time(now),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:PrincipalType": principal.kind.value,  # present for every request
    }
    if principal.account:
        values["aws:PrincipalAccount"] = principal.account
    if principal.principal_arn:
        values["aws:PrincipalArn"] = principal.principal_arn
    if principal.user_id:
        values["aws:userid"] = principal.user_id
    if principal.name:
        values["aws:username"] = principal.name
    if source_ip:
        values["aws:SourceIp"] = source_ip
    if request_tags is not None:
        values["aws:TagKeys"] = list(request_tags)
        values.update({f"aws:RequestTag/{k}": v for k, v in request_tags.items()})
    values.update({f"aws:ResourceTag/{k}": v for k, v in (resource_tags or {}).items()})
    values.update(extra or {})
    return ConditionContext(values)


# Condition keys that describe the resource a request acts on, such as its tags, as
# (key, value) pairs: hashable, so decisions can be cached by them.
ResourceKeys = tuple[tuple[str, str], ...]


@lru_cache(maxsize=4096)
def resource_tag_keys(tags: ResourceKeys, service: str | None = None) -> ResourceKeys:
    """The condition keys a resource's tags set: aws:ResourceTag/<key> for every tag, and
    <service>:ResourceTag/<key> for a service that defines its own as well (SageMaker's
    sagemaker:ResourceTag/${TagKey}; Service Authorization Reference)."""
    keys = [(f"aws:ResourceTag/{k}", v) for k, v in tags]
    if service:
        keys += [(f"{service}:ResourceTag/{k}", v) for k, v in tags]
    return tuple(keys)


def resource_tags(tags: Iterable[Mapping[str, str]], service: str | None = None) -> ResourceKeys:
    """resource_tag_keys of tags as AWS's APIs list them ([{"Key": ..., "Value": ...}])."""
    return resource_tag_keys(tuple(sorted((t["Key"], t["Value"]) for t in tags)), service)


def request_tag_keys(tags: object) -> dict[str, object]:
    """The condition keys of the Tags a request passes (a list of {"Key", "Value"}):
    aws:TagKeys with every key and aws:RequestTag/<key> with each one's value (IAM UG,
    "Controlling access to AWS resources using tags"); none without Tags."""
    if not isinstance(tags, list) or not tags:
        return {}
    keys: dict[str, object] = {"aws:TagKeys": [t["Key"] for t in tags]}
    keys.update({f"aws:RequestTag/{t['Key']}": t["Value"] for t in tags})
    return keys
