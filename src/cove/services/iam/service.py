"""The IAM API: every handler provider merged into one query-protocol service."""

from __future__ import annotations

from cove.gateway.form_service import FormService
from cove.gateway.operations import Handler
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.identity.errors import IdentityError
from cove.services.iam import (
    access_keys,
    authorization_details,
    groups,
    per_kind,
    policies,
    roles,
    simulation,
    users,
)
from cove.services.iam.condition_keys import keys_of
from cove.services.iam.errors import identity_error
from cove.services.iam.resources import resource_of

PROVIDERS = (users, access_keys, groups, roles, policies, per_kind, authorization_details)


def iam_service(directory: Directory, access: Access) -> FormService:
    handlers: dict[str, Handler] = simulation.handlers(directory, access)
    for provider in PROVIDERS:
        provided = provider.handlers(directory)
        clash = handlers.keys() & provided.keys()
        if clash:
            raise RuntimeError(f"{provider.__name__} redefines {sorted(clash)}")
        handlers |= provided
    return FormService(
        "iam",
        handlers,
        failures={IdentityError: identity_error},
        authorizer=access,
        resource_of=resource_of(directory),
        keys_of=keys_of,
    )
