"""The IAM API: every handler provider merged into one query-protocol service."""

from __future__ import annotations

from cove.gateway.form_service import FormService
from cove.gateway.operations import Handler
from cove.identity.errors import IdentityError
from cove.identity.users import Users
from cove.services.iam import access_keys, users
from cove.services.iam.errors import identity_error


def iam_service(store: Users) -> FormService:
    handlers: dict[str, Handler] = {**users.handlers(store), **access_keys.handlers(store)}
    return FormService("iam", handlers, failures={IdentityError: identity_error})
