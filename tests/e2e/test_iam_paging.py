"""Every paged IAM operation Cove implements, driven with boto3's own paginators against a
real `cove server`: pages of one and of two items put together are the unpaged answer.

AWS's behaviour pinned here:
- paging: at most `MaxItems` items per answer, `IsTruncated` and the `Marker` to pass back
  while more remain (IAM API reference, "ListUsers",
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html; the same for
  "ListEntitiesForPolicy", whose three lists share one Marker,
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListEntitiesForPolicy.html);
- ListUserTags, ListRoleTags and ListPolicyTags: "The returned list of tags is sorted by
  tag key." (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUserTags.html,
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoleTags.html,
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicyTags.html);
- GetAccountAuthorizationDetails pages its four lists (users, groups, roles, policies) with
  one Marker (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html);
- ListPolicies lists the account's own policies with all AWS managed ones, so a local
  policy may share a name with an AWS managed one (their ARNs differ) (IAM API reference,
  "ListPolicies", https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html).

The operations come from botocore's IAM model (every List* operation and every one with a
paginator) intersected with what the server implements (Cove answers `InvalidAction` for
the others), so an operation implemented later is covered without touching this test; its
members take their values from those set_up gives.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import CoveServer

ACCOUNT = "000000000000"
PATH = "/paging/"
TWIN = "AmazonS3ReadOnlyAccess"  # an AWS managed policy's name, taken by a local one too
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})  # fmt: skip
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})  # fmt: skip


def raw_client(server: CoveServer) -> Any:
    """The admin's client without botocore's checks of the input, to ask the server
    whether it implements an operation at all."""
    key, secret = server.credentials()
    return boto3.client(
        "iam", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )  # fmt: skip


def implemented_paged_operations(server: CoveServer) -> list[str]:
    iam = raw_client(server)
    model = iam.meta.service_model
    paged = [op for op in model.operation_names
             if op.startswith("List") or iam.can_paginate(xform_name(op))]  # fmt: skip
    found = []
    for op in sorted(paged):
        members = model.operation_model(op).input_shape
        if members is None or "Marker" not in members.members:
            continue  # answers everything at once, on AWS too
        try:
            getattr(iam, xform_name(op))()
        except ClientError as err:
            if err.response["Error"]["Code"] == "InvalidAction":
                continue
        found.append(op)
    return found


def result_keys(iam: Any, op: str) -> list[str]:
    """The lists an operation pages: its paginator's, else its output's list members."""
    if iam.can_paginate(xform_name(op)):
        keys = iam.get_paginator(xform_name(op))._pagination_cfg["result_key"]
        return [keys] if isinstance(keys, str) else list(keys)
    output = iam.meta.service_model.operation_model(op).output_shape
    return [name for name, shape in output.members.items() if shape.type_name == "list"]


def pages(iam: Any, op: str, params: dict[str, Any], size: int) -> Iterator[dict[str, Any]]:
    """boto3's paginator with PageSize `size`; by hand where botocore has none."""
    method = xform_name(op)
    if iam.can_paginate(method):
        yield from iam.get_paginator(method).paginate(**params, PaginationConfig={"PageSize": size})
        return
    marker: dict[str, str] = {}
    while True:
        answer = getattr(iam, method)(**params, MaxItems=size, **marker)
        yield answer
        if not answer.get("IsTruncated"):
            return
        marker = {"Marker": answer["Marker"]}


def set_up(iam: Any) -> dict[str, Any]:
    """At least three of everything each operation lists (two access keys: IAM's quota)."""
    users = [iam.create_user(UserName=f"pg-u{i}", Path=PATH)["User"] for i in range(3)]
    groups = [f"pg-g{i}" for i in range(3)]
    roles = [f"pg-r{i}" for i in range(3)]
    for name in groups:
        iam.create_group(GroupName=name, Path=PATH)
    for name in roles:
        iam.create_role(RoleName=name, Path=PATH, AssumeRolePolicyDocument=TRUST)
    arns = [iam.create_policy(PolicyName=name, Path=PATH, PolicyDocument=ALLOW_ALL)["Policy"]["Arn"]
            for name in ("pg-p0", "pg-p1", TWIN)]  # fmt: skip
    for _ in range(2):
        iam.create_policy_version(PolicyArn=arns[0], PolicyDocument=ALLOW_ALL)
    for _ in range(2):
        iam.create_access_key(UserName="pg-u0")
    for name in ("pg-u0", "pg-u1", "pg-u2"):
        iam.add_user_to_group(GroupName="pg-g0", UserName=name)
    for group in groups[1:]:
        iam.add_user_to_group(GroupName=group, UserName="pg-u0")
    tags = [{"Key": k, "Value": k.upper()} for k in ("zone", "app", "team")]  # not in order
    iam.tag_user(UserName="pg-u0", Tags=tags)
    iam.tag_role(RoleName="pg-r0", Tags=tags)
    iam.tag_policy(PolicyArn=arns[0], Tags=tags)
    kinds = (("user", "pg-u0"), ("group", "pg-g0"), ("role", "pg-r0"))
    for kind, name in kinds:
        member = {f"{kind.capitalize()}Name": name}
        for arn in arns:
            getattr(iam, f"attach_{kind}_policy")(PolicyArn=arn, **member)
        for inline in ("c", "a", "b"):
            getattr(iam, f"put_{kind}_policy")(PolicyName=f"inline-{inline}",
                                               PolicyDocument=ALLOW_ALL, **member)  # fmt: skip
    for kind, name in (("user", "pg-u1"), ("group", "pg-g1"), ("role", "pg-r1")):
        getattr(iam, f"attach_{kind}_policy")(PolicyArn=arns[0],
                                              **{f"{kind.capitalize()}Name": name})  # fmt: skip
    return {
        "UserName": "pg-u0",
        "GroupName": "pg-g0",
        "RoleName": "pg-r0",
        "PolicyArn": arns[0],
        "PolicySourceArn": users[0]["Arn"],
        "PolicyInputList": [ALLOW_ALL],
        "ActionNames": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
    }


def test_every_paged_operation_pages_as_one_answer(server: CoveServer) -> None:
    iam = server.client("iam")
    members = set_up(iam)
    policy_arn = members["PolicyArn"]
    operations = implemented_paged_operations(server)
    assert {"ListUsers", "ListPolicyVersions", "ListUserTags", "ListEntitiesForPolicy",
            "GetGroup", "SimulatePrincipalPolicy", "ListPolicyTags",
            "GetAccountAuthorizationDetails"} <= set(operations)  # fmt: skip
    failures: list[str] = []
    for op in operations:
        shape = iam.meta.service_model.operation_model(op).input_shape
        unknown = [m for m in shape.required_members if m not in members]
        assert not unknown, f"{op} needs a value for {unknown} in set_up's members"
        params = {m: members[m] for m in shape.members if m in members}  # optional ones too
        keys = result_keys(iam, op)
        whole = getattr(iam, xform_name(op))(**params, MaxItems=1000)
        assert not whole["IsTruncated"]
        expected = {k: whole.get(k, []) for k in keys}
        count = sum(len(v) for v in expected.values())
        assert count >= 2, f"{op} lists {count} items: too few to page"
        for size in (1, 2):
            try:
                got = list(pages(iam, op, params, size))
            except Exception as err:  # botocore's "The same next token was received twice"
                failures.append(f"{op} PageSize={size}: {err}")
                continue
            sizes = [sum(len(page.get(k, [])) for k in keys) for page in got]
            joined = {k: [item for page in got for item in page.get(k, [])] for k in keys}
            if max(sizes) > size or len(got) != math.ceil(count / size):
                failures.append(f"{op} PageSize={size}: pages of {sizes} for {count} items")
            if joined != expected:
                failures.append(f"{op} PageSize={size}: {joined} != {expected}")
    assert not failures, "\n".join(failures)
    local_twin = f"arn:aws:iam::{ACCOUNT}:policy{PATH}{TWIN}"
    listed = {p["Arn"] for p in iam.list_policies(MaxItems=1000)["Policies"]}
    assert {local_twin, f"arn:aws:iam::aws:policy/{TWIN}"} <= listed
    tagged = iam.list_user_tags(UserName="pg-u0"), iam.list_policy_tags(PolicyArn=policy_arn)
    for answer in tagged:
        assert [t["Key"] for t in answer["Tags"]] == ["app", "team", "zone"]  # sorted by key
