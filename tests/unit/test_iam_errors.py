"""Every typed identity failure has IAM's wire error, with its details in the text."""

from __future__ import annotations

import pytest

from cove.identity.errors import IdentityError, IdentityFailure
from cove.services.iam.errors import WIRE_ERRORS, identity_error


@pytest.mark.parametrize("failure", list(IdentityFailure), ids=lambda f: f.name)
def test_every_identity_failure_has_an_iam_error(failure: IdentityFailure) -> None:
    wire = WIRE_ERRORS[failure]
    assert wire.code and wire.message and 400 <= wire.status < 500


def test_the_details_fill_in_the_text() -> None:
    err = identity_error(IdentityError(IdentityFailure.NO_SUCH_ENTITY, Kind="role", Name="r"))
    assert (err.code, err.status, err.message) == (
        "NoSuchEntity",
        404,
        "The role with name r cannot be found.",
    )
    err = identity_error(IdentityError(IdentityFailure.ENTITY_EXISTS, Kind="group", Name="g"))
    assert (err.code, err.message) == ("EntityAlreadyExists", "Group with name g already exists.")
