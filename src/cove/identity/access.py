"""Authorization against the account's policies: the caller's identity-based policies (its
own inline and attached ones and its groups'; a role session's role's, narrowed by its
session policy), within the user's or role's permissions boundary where it has one, with
a resource's own policy where it has one (an S3 bucket policy),
evaluated by the policy engine with the condition keys Cove knows (IAM User Guide,
"Policy evaluation logic"). Decisions without a resource policy are cached until anything
in the directory changes.

A request that came through an interface VPC endpoint is also filtered by that endpoint's
policy (for every caller, the root user too), and carries aws:SourceVpce, aws:SourceVpc
and aws:VpcSourceIp instead of aws:SourceIp (IAM UG, "AWS global condition context keys";
PrivateLink guide, "Control access to VPC endpoints using endpoint policies").

The root user is allowed everything but what a resource or endpoint policy denies; an
unsigned (anonymous) request only what a resource policy allows everyone."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from cove.http.messages import Principal as CallerPrincipal
from cove.http.messages import RequestContext
from cove.iam.context import ConditionContext
from cove.iam.decisions import DecisionCache, PolicySet
from cove.iam.documents import Policy, PolicyKind, parse_policy
from cove.iam.evaluation import denial_message, evaluate
from cove.iam.policy import anonymous_denied, denied, unrestricted
from cove.iam.request import (
    Principal,
    PrincipalKind,
    Request,
    ResourceKeys,
    resource_tags,
    standard_context,
)
from cove.identity.directory import Directory
from cove.identity.entities import Entity
from cove.identity.kinds import EntityKind
from cove.identity.roles import RoleView

KNOWN_MAX = 10_000  # decisions kept for the hot path, forgotten all at once beyond
# A boundary whose policy is gone (a shipped policy this version no longer has) allows
# nothing, rather than letting the identity's policies through unbounded.
NOTHING_DOCUMENT = '{"Version": "2012-10-17", "Statement": []}'


@functools.lru_cache(maxsize=4096)
def _parsed(document: str) -> Policy:
    return parse_policy(document, PolicyKind.IDENTITY)


@functools.lru_cache(maxsize=1024)
def _parsed_resource(document: str) -> Policy:
    return parse_policy(document, PolicyKind.RESOURCE)


def engine_principal(caller: CallerPrincipal) -> Principal:
    """The policy engine's view of an authenticated caller."""
    if caller.is_root:
        return Principal.root(caller.account_id)
    if caller.role_arn:
        return Principal.assumed_role(caller.arn, caller.role_arn, caller.user_id.split(":")[0])
    return Principal.user(caller.arn, caller.user_id)


@dataclass(frozen=True)
class HeldPolicy:
    """A policy an identity holds: its name (an inline policy's or a managed policy's) and
    its document's text."""

    name: str
    document: str


class EndpointPolicies(Protocol):
    """Where the policies of the account's VPC endpoints are kept (the network store)."""

    def policy_of(self, endpoint_id: str) -> str | None:
        """The endpoint's policy document; None when there is no such endpoint."""
        ...


class _NoEndpoints:
    def policy_of(self, endpoint_id: str) -> str | None:
        return None


class Access:
    def __init__(self, directory: Directory, endpoints: EndpointPolicies | None = None) -> None:
        self.directory = directory
        self.endpoints: EndpointPolicies = endpoints or _NoEndpoints()
        self.cache = DecisionCache()
        # (caller, user id, action, resource, source IP, endpoint) -> (generation, denial)
        self._known: dict[tuple[str, ...], tuple[int, str | None]] = {}

    def policies_changed(self) -> None:
        """A policy held outside the directory (a VPC endpoint's) changed: decided
        requests are decided again."""
        self.directory.changes.bump()

    def authorize(
        self,
        ctx: RequestContext,
        action: str,
        resource: str = "*",
        resource_policies: Sequence[str] = (),
        resource_keys: ResourceKeys = (),
    ) -> None:
        caller = ctx.principal
        endpoint_id = ctx.listener.vpce_id if ctx.listener.through_endpoint else None
        if caller is None:
            self._anonymous(ctx, action, resource, resource_policies, resource_keys, endpoint_id)
            return
        if not resource_policies and unrestricted(ctx):
            return  # only a resource or endpoint policy could stop the root user
        plain = not resource_policies and caller.session_policy is None
        fast_key = (
            caller.arn, caller.user_id, action, resource, ctx.source_ip, endpoint_id or "",
            resource_keys,  # a resource's tags change outside the directory
        )  # fmt: skip
        generation = self.directory.changes.generation
        if plain and not ctx.condition_keys:
            # the hot path (InvokeEndpoint by a user): a decision that read no volatile key
            # stands until the directory changes, without building the request context
            known = self._known.get(fast_key)
            if known is not None and known[0] == generation:
                if known[1] is None:
                    return
                raise denied(known[1])
        request = self._request(ctx, caller, action, resource, resource_keys)
        if resource_policies:
            # bucket policies change outside the directory: evaluated afresh each time
            resource_side = tuple(_parsed_resource(d) for d in resource_policies)
            held = self._policies(request, caller.session_policy, endpoint_id)
            decision = replace(held, resource=resource_side).evaluate(request)
        elif caller.session_policy is not None:
            # sessions of one name can carry different session policies: not cached
            policies = self._policies(request, caller.session_policy, endpoint_id)
            decision = policies.evaluate(request)
        else:
            volatile: list[bool] = []

            def load(asked: Request) -> PolicySet:
                policies = self._policies(asked, None, endpoint_id)
                volatile.append(policies.volatile)
                return policies

            decision = self.cache.decide(request, load, generation=generation)
            if not ctx.condition_keys and not any(volatile):
                if len(self._known) >= KNOWN_MAX:
                    self._known.clear()
                message = None if decision.allowed else denial_message(decision, request)
                self._known[fast_key] = (generation, message)
        if not decision.allowed:
            raise denied(denial_message(decision, request))

    def _anonymous(
        self,
        ctx: RequestContext,
        action: str,
        resource: str,
        resource_policies: Sequence[str],
        resource_keys: ResourceKeys,
        endpoint_id: str | None,
    ) -> None:
        """An unsigned request has no policies of its own: only the resource's own policy
        can allow it, by naming everyone ("Principal": "*"), with its conditions
        (aws:SourceIp and the rest) as for any caller; an endpoint policy still filters
        it (IAM UG, "Policy evaluation logic"; S3 UG, "Principals")."""
        if not resource_policies:
            raise anonymous_denied(action, resource)
        principal = Principal.anonymous()
        request = Request(principal, action, resource, self._context(ctx, principal, resource_keys))
        policies = replace(
            self._policies(request, None, endpoint_id),
            resource=tuple(_parsed_resource(d) for d in resource_policies),
        )
        if not policies.evaluate(request).allowed:
            raise anonymous_denied(action, resource)

    def may_assume(self, ctx: RequestContext, role: Entity, role_arn: str) -> None:
        """AccessDenied unless the caller may assume `role`: its trust policy must allow
        the caller, and unless it names the caller itself, so must the caller's own
        policies (IAM User Guide, "Policy evaluation logic", role trust policies). The
        role's tags are aws:ResourceTag/<key> and iam:ResourceTag/<key> (Service
        Authorization Reference, AWS STS, the role resource type)."""
        caller = ctx.principal
        assert caller is not None and not caller.is_root  # refused before
        tags = resource_tags(role.tags, "iam")
        request = self._request(ctx, caller, "sts:AssumeRole", role_arn, tags)
        trust = parse_policy(RoleView(role).trust_policy, PolicyKind.TRUST)
        listener = ctx.listener
        endpoint_id = listener.vpce_id if listener.through_endpoint else None
        policies = self._policies(request, caller.session_policy, endpoint_id)
        decision = replace(policies, trust=trust).evaluate(request)
        if not decision.allowed:
            raise denied(denial_message(decision, request))

    def pass_role(self, ctx: RequestContext, role_arn: str, service: str) -> Entity | None:
        """Authorize the caller to pass `role_arn` to `service` (iam:PassRole, with the
        service as iam:PassedToService, so AWS's managed policies that allow passing roles
        to one service only work as on AWS: IAM UG, "Grant a user permissions to pass a
        role to an AWS service"; and the role's tags as aws:ResourceTag/<key> and
        iam:ResourceTag/<key>, the role resource type's keys in the Service Authorization
        Reference); then the role, if it exists and trusts `service`, which the service
        checks by assuming it; None otherwise, for the service's own error."""
        role = self.directory.role_by_arn(role_arn)
        tags = resource_tags(role.tags, "iam") if role is not None else ()
        keys = (("iam:PassedToService", service), *tags)  # in the decisions' cache keys
        self.authorize(ctx, "iam:PassRole", role_arn, resource_keys=keys)
        return self.assumable(role_arn, service)

    def assumable(self, role_arn: str, service: str) -> Entity | None:
        """The role `role_arn` names if it exists and trusts `service` (as the service
        finds when it assumes it); None otherwise."""
        role = self.directory.role_by_arn(role_arn)
        if role is None or not self.trusts_service(role, role_arn, service):
            return None
        return role

    def trusts_service(self, role: Entity, role_arn: str, service: str) -> bool:
        """Whether `role`'s trust policy lets `service` (sagemaker.amazonaws.com, ...)
        assume it, as the service does before it runs anything with the role."""
        trust = parse_policy(RoleView(role).trust_policy, PolicyKind.TRUST)
        request = Request(Principal.service(service), "sts:AssumeRole", role_arn)
        return evaluate(request, trust_policy=trust).allowed

    def role_allows(
        self,
        role: Entity,
        role_arn: str,
        action: str,
        resource: str,
        resource_policies: Sequence[str] = (),
    ) -> bool:
        """Whether a session of `role` (a service acting with it, as API Gateway writes
        logs with the account's CloudWatch role) may do `action` by the role's policies,
        or by the resource's own policy naming the role (same account)."""
        name = role_arn.rsplit("/", 1)[-1]
        account = role_arn.split(":")[4]
        session = f"arn:aws:sts::{account}:assumed-role/{name}/{name}"
        request = Request(Principal.assumed_role(session, role_arn), action, resource)
        resource_side = tuple(_parsed_resource(d) for d in resource_policies)
        return evaluate(
            request, self._held_by(role), resource_policies=resource_side,
            permission_boundary=self._boundary(role),
        ).allowed  # fmt: skip

    @classmethod
    def _request(
        cls,
        ctx: RequestContext,
        caller: CallerPrincipal,
        action: str,
        resource: str,
        resource_keys: ResourceKeys = (),
    ) -> Request:
        principal = engine_principal(caller)
        return Request(principal, action, resource, cls._context(ctx, principal, resource_keys))

    @staticmethod
    def _context(
        ctx: RequestContext, principal: Principal, resource_keys: ResourceKeys
    ) -> ConditionContext:
        listener = ctx.listener
        if listener.through_endpoint:
            # the endpoint's ENIs speak TLS; the source is the VPC host, not an address
            # on the public path
            secure, source_ip = True, None
            keys = {
                "aws:SourceVpce": listener.vpce_id,
                "aws:SourceVpc": listener.vpc_id,
                "aws:VpcSourceIp": ctx.source_ip,
                **ctx.condition_keys,
            }
        else:
            # the public listener speaks plain HTTP (aws:SecureTransport false), its
            # edge inside VPC networks TLS
            secure, source_ip, keys = listener.tls, ctx.source_ip, ctx.condition_keys
        if resource_keys:
            keys = {**dict(resource_keys), **keys}
        return standard_context(
            principal,
            secure_transport=secure,
            source_ip=source_ip,
            extra=keys,  # the endpoint's, the resource's, and what the operation's input sets
        )

    def _policies(
        self, request: Request, session_policy: str | None = None, endpoint_id: str | None = None
    ) -> PolicySet:
        policies = self._held(request, session_policy)
        if endpoint_id is None:
            return policies
        document = self.endpoints.policy_of(endpoint_id)
        # an endpoint deleted while its connection lasts lets nothing through
        endpoint = () if document is None else (_parsed_resource(document),)
        return replace(policies, endpoint=endpoint)

    def _held(self, request: Request, session_policy: str | None) -> PolicySet:
        principal = request.principal
        if principal.kind is PrincipalKind.ASSUMED_ROLE:
            return self._session_policies(request, session_policy)
        user_id = principal.user_id
        user = self.directory.entities.by_id(user_id) if user_id else None
        if user is None:
            return PolicySet()
        holders = [user, *self.directory.memberships.groups_of(user)]
        return PolicySet(
            identity=tuple(p for h in holders for p in self._held_by(h)),
            boundary=self._boundary(user),
        )

    def _session_policies(self, request: Request, session_policy: str | None) -> PolicySet:
        """A role session has its role's policies, narrowed by its session policy."""
        role_id = (request.principal.user_id or "").split(":")[0]
        role = self.directory.entities.by_id(role_id)
        if role is None:  # the role was deleted: its sessions can do nothing
            return PolicySet(session=())
        session = None if session_policy is None else (_parsed(session_policy),)
        return PolicySet(
            identity=tuple(self._held_by(role)), session=session, boundary=self._boundary(role)
        )

    def identity_documents(self, entity: Entity) -> list[HeldPolicy]:
        """What an identity's own policies are: a user's with its groups', a group's, a
        role's (SimulatePrincipalPolicy evaluates these, and names them)."""
        holders = [entity]
        if entity.kind is EntityKind.USER:
            holders += self.directory.memberships.groups_of(entity)
        return [p for h in holders for p in self._documents_of(h)]

    def boundary_document(self, entity: Entity) -> HeldPolicy | None:
        """A user's or role's permissions boundary: its managed policy's name and default
        document; None without one."""
        arn = self.directory.boundaries.of(entity)
        if arn is None:
            return None
        document = self.directory.policies.default_document(arn)
        name = arn.rsplit("/", 1)[-1]
        return HeldPolicy(name, NOTHING_DOCUMENT if document is None else document)

    def _boundary(self, entity: Entity) -> Policy | None:
        """The identity's permissions boundary, which its identity-based policies' allows
        must fall within (IAM UG, "Permissions boundaries for IAM entities")."""
        held = self.boundary_document(entity)
        return None if held is None else _parsed(held.document)

    def _documents_of(self, entity: Entity) -> list[HeldPolicy]:
        held = [HeldPolicy(p.name, p.document) for p in self.directory.inline.of(entity)]
        for policy in self.directory.policies.attached_to(entity):
            document = self.directory.policies.default_document(policy.arn)
            if document is not None:
                held.append(HeldPolicy(policy.name, document))
        return held

    def _held_by(self, entity: Entity) -> list[Policy]:
        return [_parsed(p.document) for p in self._documents_of(entity)]
