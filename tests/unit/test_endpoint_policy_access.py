"""Requests through an interface VPC endpoint: the endpoint's policy filters every caller
(the root user too), denials name it, and the VPC keys replace aws:SourceIp.

AWS: PrivateLink guide, "Control access to VPC endpoints using endpoint policies" (the
policy does not grant, it limits; it applies to every principal); IAM UG, "Troubleshoot
access denied error messages" ("... because no VPC endpoint policy allows ...", "... with
an explicit deny in a VPC endpoint policy"); IAM UG, "AWS global condition context keys"
(aws:SourceVpce, aws:SourceVpc, aws:VpcSourceIp are present only through an endpoint, and
aws:SourceIp is then absent)."""

from __future__ import annotations

import json

import pytest

from cove.auth.credentials import CredentialStore
from cove.errors import AwsError
from cove.http.messages import PUBLIC_LISTENER, Listener, Principal, RequestContext
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.identity.kinds import EntityKind
from cove.storage.db import open_engine

ACCOUNT = "000000000000"
ENDPOINT = "arn:aws:sagemaker:us-east-1:000000000000:endpoint/x"
VPCE = Listener(kind="vpce", vpce_id="vpce-0123", vpc_id="vpc-0abc", subnet_id="subnet-1")
FULL = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


class Policies:
    def __init__(self) -> None:
        self.documents: dict[str, str] = {"vpce-0123": json.dumps(FULL)}

    def policy_of(self, endpoint_id: str) -> str | None:
        return self.documents.get(endpoint_id)


@pytest.fixture
def world():
    directory = Directory(open_engine("sqlite://"), ACCOUNT, CredentialStore(ACCOUNT))
    alice = directory.entities.create(EntityKind.USER, "alice", "/", [])
    allow_invoke = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}],
    }
    directory.inline.put(alice, "invoke", json.dumps(allow_invoke))
    policies = Policies()
    access = Access(directory, policies)
    user = Principal(
        ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AKIA1", alice.entity_id, "alice"
    )
    root = Principal(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", "AKIA0", ACCOUNT)
    return access, policies, user, root


def ctx(principal: Principal, listener: Listener = VPCE, ip: str = "10.0.1.10") -> RequestContext:
    return RequestContext(listener=listener, source_ip=ip, principal=principal)


def denial(access: Access, context: RequestContext) -> str:
    with pytest.raises(AwsError) as caught:
        access.authorize(context, "sagemaker:InvokeEndpoint", ENDPOINT)
    return caught.value.message


def denial_for_action(access: Access, context: RequestContext, action: str) -> str:
    with pytest.raises(AwsError) as caught:
        access.authorize(context, action, ENDPOINT)
    return caught.value.message


def test_full_access_endpoint_policy_lets_the_identity_decide(world):
    access, _, user, _ = world
    access.authorize(ctx(user), "sagemaker:InvokeEndpoint", ENDPOINT)
    assert "no identity-based policy" in (
        denial_for_action(access, ctx(user), "sagemaker:CreateEndpoint")
    )


def test_explicit_deny_in_the_endpoint_policy_names_it_and_stops_the_root_user(world):
    access, policies, user, root = world
    deny = {
        "Statement": [
            *FULL["Statement"],
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sagemaker:InvokeEndpoint",
                "Resource": "*",
            },
        ]
    }
    policies.documents["vpce-0123"] = json.dumps(deny)
    access.policies_changed()
    assert denial(access, ctx(user)).endswith("with an explicit deny in a VPC endpoint policy")
    assert "with an explicit deny in a VPC endpoint policy" in denial(access, ctx(root))
    # the public path is not filtered by it
    access.authorize(ctx(user, PUBLIC_LISTENER, "127.0.0.1"), "sagemaker:InvokeEndpoint", ENDPOINT)


def test_endpoint_policy_that_allows_nothing_denies_with_its_own_wording(world):
    access, policies, user, _ = world
    only_s3 = {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]
    }
    access.authorize(ctx(user), "sagemaker:InvokeEndpoint", ENDPOINT)  # cached as allowed
    policies.documents["vpce-0123"] = json.dumps(only_s3)
    access.policies_changed()  # the network store reports every endpoint change
    assert denial(access, ctx(user)) == (
        f"User: {user.arn} is not authorized to perform: sagemaker:InvokeEndpoint on resource: "
        f"{ENDPOINT} because no VPC endpoint policy allows the sagemaker:InvokeEndpoint action"
    )


def test_a_deleted_endpoint_lets_nothing_through(world):
    access, policies, user, _ = world
    del policies.documents["vpce-0123"]
    access.policies_changed()
    assert "VPC endpoint policy" in denial(access, ctx(user))


def test_vpc_keys_replace_source_ip_through_an_endpoint(world):
    access, policies, user, _ = world
    # Deny unless the request came through vpce-0123 (a StringNotEquals on a key that
    # is absent is true: it shuts the public path) -- IAM UG, condition operators.
    shut = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}},
            },
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "Null": {"aws:SourceIp": "false"},
                    "StringEquals": {"aws:SourceVpc": "vpc-0abc"},
                },
            },
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"NotIpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}},
            },
        ],
    }
    access.directory.inline.put(
        access.directory.entities.by_id(user.user_id), "invoke", json.dumps(shut)
    )
    access.authorize(ctx(user), "sagemaker:InvokeEndpoint", ENDPOINT)
    assert "explicit deny in an identity-based policy" in denial(
        access, ctx(user, PUBLIC_LISTENER, "127.0.0.1")
    )
    assert "explicit deny in an identity-based policy" in denial(access, ctx(user, ip="10.9.0.1"))
