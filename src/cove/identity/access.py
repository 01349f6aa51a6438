"""Authorization against the account's policies: the caller's identity-based policies (its
own inline and attached ones, and those of its groups) evaluated by the policy engine with
the global condition keys Cove knows, each decision cached until anything in the directory
changes (IAM User Guide, "Policy evaluation logic").

The root user is allowed everything (no resource or endpoint policy can deny it yet: S3
bucket policies and VPC endpoint policies come with their issues); a principal that is
neither root nor one of the directory's users (role sessions, next) has no policies yet and
is denied."""

from __future__ import annotations

import functools

from cove.http.messages import RequestContext
from cove.iam.decisions import DecisionCache, PolicySet
from cove.iam.documents import Policy, PolicyKind, parse_policy
from cove.iam.evaluation import denial_message
from cove.iam.policy import anonymous_denied, denied
from cove.iam.request import Principal, Request, standard_context
from cove.identity.directory import Directory
from cove.identity.entities import Entity


@functools.lru_cache(maxsize=4096)
def _parsed(document: str) -> Policy:
    return parse_policy(document, PolicyKind.IDENTITY)


class Access:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.cache = DecisionCache()

    def authorize(self, ctx: RequestContext, action: str, resource: str = "*") -> None:
        caller = ctx.principal
        if caller is None:
            raise anonymous_denied(action, resource)
        if caller.is_root:
            return
        principal = Principal.user(caller.arn, caller.user_id)
        # Cove's listeners speak plain HTTP: aws:SecureTransport is false.
        context = standard_context(principal, secure_transport=False, source_ip=ctx.source_ip)
        request = Request(principal, action, resource, context)
        generation = self.directory.changes.generation
        decision = self.cache.decide(request, self._policies, generation=generation)
        if not decision.allowed:
            raise denied(denial_message(decision, request))

    def _policies(self, request: Request) -> PolicySet:
        user_id = request.principal.user_id
        user = self.directory.entities.by_id(user_id) if user_id else None
        if user is None:
            return PolicySet()
        holders = [user, *self.directory.memberships.groups_of(user)]
        return PolicySet(identity=tuple(p for h in holders for p in self._held_by(h)))

    def _held_by(self, entity: Entity) -> list[Policy]:
        documents = [p.document for p in self.directory.inline.of(entity)]
        for policy in self.directory.policies.attached_to(entity):
            document = self.directory.policies.default_document(policy.arn)
            if document is not None:
                documents.append(document)
        return [_parsed(d) for d in documents]
