"""What every protocol's service frame shares: the registered handlers of one botocore
service, the IAM action each operation is authorized as, and calling a handler."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, ServiceModel

from cove.errors import AwsError
from cove.http.messages import RequestContext
from cove.iam.policy import ROOT_ONLY, Authorizer, is_denial, relabeled
from cove.iam.request import ResourceKeys

# A handler takes the request's context and the operation's input, and returns its output
# (or an awaitable of it), which the protocol serializes by the operation's output shape.
Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Target:
    """A resource an operation is authorized on: its ARN and the condition keys that
    describe it (its tags, as aws:ResourceTag/<key>); `action` where the operation needs
    another action on it (EC2's Create calls with tags also need ec2:CreateTags); `label`
    where the service's denial names it otherwise than by its ARN (IAM's "role <name>")."""

    arn: str
    keys: ResourceKeys = ()
    action: str | None = None
    label: str | None = None


# What an operation acts on, from the caller and the operation's input: one ARN, or every
# resource the Service Authorization Reference requires for it (SageMaker's CreateEndpoint
# is authorized on the endpoint and on its endpoint configuration), each in turn.
ResourceOf = Callable[[RequestContext, str, dict[str, Any]], str | Sequence[Target]]
# The condition keys an operation's input sets (aws:RequestTag/..., sagemaker:InstanceTypes).
KeysOf = Callable[[str, dict[str, Any]], dict[str, object]]


@dataclass(frozen=True)
class Operations:
    """A service's implemented operations. Adding one is a handler plus its entry here."""

    model: ServiceModel
    handlers: Mapping[str, Handler]
    # The IAM action of an operation whose action is not `<prefix>:<Operation>`, e.g.
    # Lambda's Invoke is `lambda:InvokeFunction`; None for one that needs no permission
    # (STS GetCallerIdentity).
    actions: Mapping[str, str | None] = field(default_factory=dict)
    # A subsystem's typed failures, each turned into the API's wire error by its table
    # (IdentityError -> IAM's NoSuchEntity, ...).
    failures: Mapping[type[Exception], Callable[[Any], AwsError]] = field(default_factory=dict)
    # Who decides (the server wires the account's policies; alone, only root is allowed),
    # and the ARN an operation's input names as the resource it acts on ("*" without).
    authorizer: Authorizer = ROOT_ONLY
    resource_of: ResourceOf | None = None
    keys_of: KeysOf | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.handlers) - set(self.model.operation_names))
        if unknown:
            raise ValueError(f"{self.model.service_name} has no operations {unknown}")

    @property
    def action_prefix(self) -> str:
        return self.model.signing_name

    def action(self, operation: str) -> str | None:
        return self.actions.get(operation, f"{self.action_prefix}:{operation}")

    def handler(self, operation: OperationModel, missing: AwsError) -> Handler:
        """The handler of `operation`, or `missing` (the protocol's own error) for an
        operation of the model that Cove does not implement."""
        handler = self.handlers.get(operation.name)
        if handler is None:
            raise missing
        return handler

    async def call(
        self, ctx: RequestContext, operation: OperationModel, handler: Handler, params: dict
    ) -> dict[str, Any]:
        """Authorize the operation for the caller, then run its handler."""
        ctx.operation = operation.name
        action = self.action(operation.name)
        if action is not None:
            of = self.resource_of
            resource = "*" if of is None else of(ctx, operation.name, params)
            if self.keys_of is not None:
                ctx.condition_keys.update(self.keys_of(operation.name, params))
            if isinstance(resource, str):
                self.authorizer.authorize(ctx, action, resource)
            else:
                for target in resource:
                    try:
                        self.authorizer.authorize(
                            ctx, target.action or action, target.arn, resource_keys=target.keys
                        )
                    except AwsError as err:
                        if target.label is None or not is_denial(err):
                            raise
                        raise relabeled(err, target.arn, target.label) from None
        try:
            result = handler(ctx, params)
            if inspect.isawaitable(result):
                result = await result
        except tuple(self.failures) as exc:
            raise self.failures[type(exc)](exc) from None
        return result or {}


def not_implemented(code: str, operation: str, status: int = 400) -> AwsError:
    """The answer to an operation of the model that Cove has no handler for yet."""
    return AwsError(code, f"Cove does not implement {operation} yet", status)
