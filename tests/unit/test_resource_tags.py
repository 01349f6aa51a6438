"""aws:ResourceTag/<key> for SageMaker resources: the tag index the authorizer reads, the
resources each operation is authorized on, and decisions that follow a resource's tags.

AWS: Service Authorization Reference, "Actions, resources, and condition keys for Amazon
SageMaker AI" (the endpoint, endpoint-config, model and training-job resource types take
aws:ResourceTag/${TagKey} and sagemaker:ResourceTag/${TagKey}; CreateEndpoint and
UpdateEndpoint require both the endpoint and the endpoint-config resource),
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html;
SageMaker Developer Guide, "Control access to SageMaker AI resources by using tags" (the
List calls, ListTags and Search are not restricted by tag-based policies; the example uses
sagemaker:ResourceTag/Project),
https://docs.aws.amazon.com/sagemaker/latest/dg/security_iam_id-based-policy-examples.html.
"""

from __future__ import annotations

import json

import pytest

from cove.auth.credentials import CredentialStore
from cove.config import Settings
from cove.control.tags import TagIndex
from cove.errors import AwsError
from cove.gateway.operations import Target
from cove.http.messages import PUBLIC_LISTENER, Principal, RequestContext
from cove.iam.request import resource_tag_keys
from cove.identity.access import Access
from cove.identity.directory import Directory
from cove.identity.kinds import EntityKind
from cove.services.sagemaker.resources import resource_of
from cove.storage.db import open_engine
from cove.storage.resources import ResourceStore

ACCOUNT = "000000000000"
ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/"
CONFIG = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/"


class CountingStore(ResourceStore):
    reads = 0

    def get_by_arn(self, arn: str):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().get_by_arn(arn)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore(open_engine("sqlite://"))


def test_the_index_reads_a_resource_once_and_follows_its_changes(store: CountingStore) -> None:
    index = TagIndex(store)
    assert index.tags_of(ARN + "a") == ()  # no such endpoint: no tags
    res = store.create("endpoint", "A", ARN + "a", {"Tags": [{"Key": "team", "Value": "a"}]})
    assert index.tags_of(ARN + "a") == (("team", "a"),)  # its creation was heard
    reads = store.reads
    assert index.tags_of(ARN + "a") == (("team", "a"),)
    assert store.reads == reads  # from memory
    res.doc["Tags"] = [{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}]
    store.save(res)  # AddTags writes the document back
    assert index.tags_of(ARN + "a") == (("env", "dev"), ("team", "b"))
    store.delete("endpoint", "a")
    assert index.tags_of(ARN + "a") == ()


def test_tag_keys_carry_the_global_and_the_services_name() -> None:
    assert resource_tag_keys((("team", "a"),), "sagemaker") == (
        ("aws:ResourceTag/team", "a"), ("sagemaker:ResourceTag/team", "a"),
    )  # fmt: skip
    assert resource_tag_keys((), "sagemaker") == ()


def test_operations_name_their_resources_with_their_tags(store: CountingStore) -> None:
    index = TagIndex(store)
    store.create("endpoint-config", "T", CONFIG + "t", {"Tags": [{"Key": "team", "Value": "a"}]})
    of = resource_of(Settings(), index)
    ctx = RequestContext(PUBLIC_LISTENER, "127.0.0.1")
    config = CONFIG + "t"
    tagged = (("aws:ResourceTag/team", "a"), ("sagemaker:ResourceTag/team", "a"))
    both = of(ctx, "CreateEndpoint", {"EndpointName": "New", "EndpointConfigName": "T"})
    assert both == [Target(ARN + "new"), Target(config, tagged)]
    assert of(ctx, "UpdateEndpoint", {"EndpointName": "x", "EndpointConfigName": "T"}) == [
        Target(ARN + "x"), Target(config, tagged),
    ]  # fmt: skip
    assert of(ctx, "DescribeEndpointConfig", {"EndpointConfigName": "T"}) == [
        Target(config, tagged)
    ]
    assert of(ctx, "ListEndpoints", {}) == "*"
    assert of(ctx, "ListTags", {"ResourceArn": config}) == [Target(config)]  # tags unchecked
    assert of(ctx, "AddTags", {"ResourceArn": config, "Tags": []}) == [Target(config, tagged)]


def test_a_decision_follows_the_resources_tags() -> None:
    directory = Directory(open_engine("sqlite://"), ACCOUNT, CredentialStore(ACCOUNT))
    alice = directory.entities.create(EntityKind.USER, "alice", "/", [])
    directory.inline.put(alice, "team-a", json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}},
        }],
    }))  # fmt: skip
    access = Access(directory)
    user = Principal(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AKIA1", alice.entity_id,
                     "alice")  # fmt: skip
    ctx = RequestContext(PUBLIC_LISTENER, "127.0.0.1", principal=user)
    team_a = resource_tag_keys((("team", "a"),), "sagemaker")
    team_b = resource_tag_keys((("team", "b"),), "sagemaker")
    for _ in range(2):  # the second time from the decisions kept
        access.authorize(ctx, "sagemaker:InvokeEndpoint", ARN + "x", resource_keys=team_a)
        for keys in (team_b, ()):  # the same endpoint, its tags changed or gone
            with pytest.raises(AwsError) as denied:
                access.authorize(ctx, "sagemaker:InvokeEndpoint", ARN + "x", resource_keys=keys)
            assert denied.value.message == (
                f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
                f"sagemaker:InvokeEndpoint on resource: {ARN}x because no identity-based "
                "policy allows the sagemaker:InvokeEndpoint action"
            )
