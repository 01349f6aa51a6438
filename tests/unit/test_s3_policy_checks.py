"""S3's checks of a bucket policy document and its MalformedPolicy texts, one case each.
Where each text was seen in S3's own answers is listed in
tests/e2e/test_s3_bucket_policies.py, which pins them end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cove.auth.credentials import CredentialStore
from cove.errors import AwsError
from cove.identity.directory import Directory
from cove.identity.kinds import EntityKind
from cove.services.s3.policy_checks import check_bucket_policy
from cove.storage.db import open_engine

BUCKET = "site"
ACCOUNT = "000000000000"


def statement(**overrides: Any) -> dict[str, Any]:
    base = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*"}  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("policy.json", "Policies must be valid JSON and the first byte must be '{'"),
        (' {"Statement": []}', "Policies must be valid JSON and the first byte must be '{'"),
        ('{"Statement": [', "This policy contains invalid Json"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        ('{"Version": "2012-10-17", "Statement": []}',
         "Could not parse the policy: Statement is empty!"),
        (document(statement(Effect="hello")), "Invalid effect: hello"),
        (document(statement(Principal=None)), "Missing required field Principal"),
        (document(statement(Principal={"AWS": "someone"})), "Invalid principal in policy"),
        (document(statement(Resource="*")), "Policy has invalid resource"),
        (document(statement(Resource="arn:aws:s3:::another-bucket/*")),
         "Policy has invalid resource"),
        (document(statement(Resource="arn:aws:s3:::site*")), "Policy has invalid resource"),
        (document(statement(Resource="site/*")), "Policy has invalid resource"),
        (document(statement(Action="GetObject")), "Policy has invalid action"),
        (document(statement(Action="sqs:SendMessage")), "Policy has invalid action"),
        (document(statement(Action="s3:PutObject", Resource=f"arn:aws:s3:::{BUCKET}")),
         "Action does not apply to any resource(s) in statement"),
        (document(statement(Action=["s3:GetObject", "s3:ListBucket"])),
         "Action does not apply to any resource(s) in statement"),
        (document(statement(Action="s3:AbortMultipartUpload",
                            Resource=f"arn:aws:s3:::{BUCKET}")),
         "Action does not apply to any resource(s) in statement"),
    ],
)  # fmt: skip
def test_refused_with_s3s_words(policy: str, message: str) -> None:
    with pytest.raises(AwsError) as refused:
        check_bucket_policy(policy, BUCKET)
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "MalformedPolicy", 400, message,
    )  # fmt: skip


@pytest.mark.parametrize(
    "policy",
    [
        document(statement()),
        document(statement(Principal={"AWS": "*"}, Action=["s3:GetObject", "s3:ListBucket"],
                           Resource=[f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"])),
        document(statement(Action="s3:*", Resource=f"arn:aws:s3:::{BUCKET}")),
        document(statement(Action="s3:Get*", Resource=f"arn:aws:s3:::{BUCKET}")),
        document(statement(Effect="Deny", NotAction="s3:GetObject",
                           Action=None, Resource=f"arn:aws:s3:::{BUCKET}")),
        document(statement(Principal={"AWS": "123456789012"}, Action="s3:GetBucketPolicy",
                           Resource=f"arn:aws:s3:::{BUCKET}")),
        document(statement(Principal={"Service": "logging.s3.amazonaws.com"},
                           Action="s3:PutObject", Resource=f"arn:aws:s3:::{BUCKET}/logs/*")),
    ],
)  # fmt: skip
def test_kept(policy: str) -> None:
    assert check_bucket_policy(policy, BUCKET).statements


def test_the_owners_users_and_roles_must_exist() -> None:
    """A user or role of the owner's account must exist (AWS knowledge center, "Why am I
    getting the error 'Invalid principal in policy'...",
    https://aws.amazon.com/premiumsupport/knowledge-center/s3-invalid-principal-in-policy-error/);
    other accounts' principals, the account root and session ARNs are kept as written."""
    directory = Directory(open_engine("sqlite://"), ACCOUNT, CredentialStore(ACCOUNT))
    directory.entities.create(EntityKind.USER, "reader", "/team/")
    own = f"arn:aws:iam::{ACCOUNT}"
    for principal in [
        f"{own}:user/team/reader", f"{own}:role/cove", f"{own}:root", ACCOUNT,
        "arn:aws:iam::123456789012:user/elsewhere", "arn:aws:iam::123456789012:role/there",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/cove/any-session",
    ]:  # fmt: skip
        policy = document(statement(Principal={"AWS": principal}))
        assert check_bucket_policy(policy, BUCKET, directory).statements, principal
    for named in [
        {"Principal": {"AWS": f"{own}:user/nobody"}},
        {"Principal": {"AWS": f"{own}:user/reader"}},  # its path is part of its ARN
        {"Principal": {"AWS": [f"{own}:root", f"{own}:role/gone"]}},
        {"Principal": None, "Effect": "Deny", "NotPrincipal": {"AWS": f"{own}:user/nobody"}},
    ]:
        with pytest.raises(AwsError) as refused:
            check_bucket_policy(document(statement(**named)), BUCKET, directory)
        assert (refused.value.code, refused.value.message) == (
            "MalformedPolicy", "Invalid principal in policy",
        )  # fmt: skip
    # without the directory (a store of its own), names are not looked up
    assert check_bucket_policy(document(statement(Principal={"AWS": f"{own}:user/x"})), BUCKET)
