"""A role's trust policy must name users and roles of the account that exist, with
unmodified boto3 against a real `cove server`.

AWS's behaviour pinned here:
- "When you save the policy, AWS transforms the ARN to a unique principal ID" (IAM User
  Guide, "AWS JSON policy elements: Principal", IAM role and user principals,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html;
  and "Example policies for delegating access",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_policy-examples.html): a
  user or role that does not exist has no such id, and CreateRole and
  UpdateAssumeRolePolicy refuse the document with MalformedPolicyDocument 400
  'Invalid principal in policy: "AWS":"<the ARN as written>"', as AWS answered CreateRole
  (https://github.com/opstrace/opstrace/issues/88) and UpdateAssumeRolePolicy for a role
  (https://github.com/databrickslabs/ucx/issues/2269,
  https://github.com/aws-actions/configure-aws-credentials/issues/332) and for a user
  (https://github.com/ministryofjustice/modernisation-platform/issues/896);
- a role cannot trust itself by ARN when it is created, since it does not exist yet
  (https://github.com/aws-samples/aws-secure-environment-accelerator/issues/1136), nor a
  role that was never created (https://github.com/hashicorp/terraform-provider-aws/issues/8905).
What names no entity is kept as written: the account (root ARN or bare id), "*", services,
role sessions; other accounts' users and roles too, which Cove, holding one account,
cannot look up (see cove.iam.principals).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
OWN = f"arn:aws:iam::{ACCOUNT}"


def trusting(*aws: str, service: str | None = None) -> str:
    principal: dict[str, Any] = {"AWS": list(aws)} if aws else {}
    if service:
        principal["Service"] = service
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})  # fmt: skip


def refusal(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def invalid(arn: str) -> tuple[str, int, str]:
    return "MalformedPolicyDocument", 400, f'Invalid principal in policy: "AWS":"{arn}"'


def test_create_role_refuses_a_user_or_role_that_does_not_exist(server: CoveServer) -> None:
    iam = server.client("iam")
    iam.create_user(UserName="trustee", Path="/trusted/")
    for principals, named in [
        ((f"{OWN}:user/nobody",), f"{OWN}:user/nobody"),
        ((f"{OWN}:role/no-role",), f"{OWN}:role/no-role"),
        ((f"{OWN}:user/trustee",), f"{OWN}:user/trustee"),  # the user's ARN has its path
        ((f"{OWN}:role/self-trusting",), f"{OWN}:role/self-trusting"),  # not there yet
        # the first one that does not exist, among some that are fine
        ((f"{OWN}:root", f"{OWN}:user/trusted/trustee", f"{OWN}:user/ghost", f"{OWN}:role/x"),
         f"{OWN}:user/ghost"),
    ]:  # fmt: skip
        document = trusting(*principals)
        assert refusal(
            iam.create_role, RoleName="self-trusting", AssumeRolePolicyDocument=document
        ) == invalid(named), principals
    assert refusal(iam.get_role, RoleName="self-trusting")[:2] == ("NoSuchEntity", 404)
    # a role that exists, and what names no entity of this account
    iam.create_role(RoleName="trusted-role", AssumeRolePolicyDocument=trusting(
        service="sagemaker.amazonaws.com"))  # fmt: skip
    kept = trusting(
        f"{OWN}:user/trusted/trustee", f"{OWN}:role/trusted-role", f"{OWN}:root", ACCOUNT, "*",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/trusted-role/any-session",
        "arn:aws:iam::123456789012:user/elsewhere", "arn:aws:iam::123456789012:role/there",
        service="lambda.amazonaws.com",
    )  # fmt: skip
    role = iam.create_role(RoleName="self-trusting", AssumeRolePolicyDocument=kept)["Role"]
    assert role["AssumeRolePolicyDocument"] == json.loads(kept)


def test_update_assume_role_policy_refuses_them_too(server: CoveServer) -> None:
    iam = server.client("iam")
    first = trusting(f"{OWN}:root")
    iam.create_role(RoleName="updated-trust", AssumeRolePolicyDocument=first)
    iam.create_user(UserName="departing-trustee")
    for arn in (f"{OWN}:user/not-a-user", f"{OWN}:role/not-a-role"):
        assert refusal(
            iam.update_assume_role_policy, RoleName="updated-trust", PolicyDocument=trusting(arn)
        ) == invalid(arn)
    # the role trusting itself, once it exists, and a user that exists
    mine = trusting(f"{OWN}:role/updated-trust", f"{OWN}:user/departing-trustee")
    iam.update_assume_role_policy(RoleName="updated-trust", PolicyDocument=mine)
    got = iam.get_role(RoleName="updated-trust")["Role"]["AssumeRolePolicyDocument"]
    assert got == json.loads(mine)
    # once the user is gone, a document naming it is refused again and the trust kept
    iam.delete_user(UserName="departing-trustee")
    assert refusal(
        iam.update_assume_role_policy, RoleName="updated-trust", PolicyDocument=mine
    ) == invalid(f"{OWN}:user/departing-trustee")
    got = iam.get_role(RoleName="updated-trust")["Role"]["AssumeRolePolicyDocument"]
    assert got == json.loads(mine)
