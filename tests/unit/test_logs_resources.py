"""What each CloudWatch Logs operation is authorized on (Service Authorization Reference,
"Actions, resources, and condition keys for Amazon CloudWatch Logs": log-group
arn:aws:logs:<region>:<account>:log-group:<name>, log-stream
...:log-group:<name>:log-stream:<stream>)."""

from __future__ import annotations

import pytest

from cove.errors import AwsError
from cove.http.messages import RequestContext
from cove.services.logs.arns import Arns, required_group

ARNS = Arns("us-east-1", "123456789012")
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"
CTX = RequestContext(listener=None, source_ip="127.0.0.1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("operation", "params", "resource"),
    [
        ("CreateLogGroup", {"logGroupName": "/aws/lambda/f"}, GROUP),
        ("FilterLogEvents", {"logGroupIdentifier": GROUP}, GROUP),
        ("FilterLogEvents", {"logGroupIdentifier": "/aws/lambda/f"}, GROUP),
        (
            "PutLogEvents",
            {"logGroupName": "/aws/lambda/f", "logStreamName": "s"},
            GROUP + ":log-stream:s",
        ),
        (
            "GetLogEvents",
            {"logGroupIdentifier": GROUP, "logStreamName": "s"},
            GROUP + ":log-stream:s",
        ),
        ("DescribeLogGroups", {}, "arn:aws:logs:us-east-1:123456789012:log-group:*"),
    ],
)
def test_resource_of(operation, params, resource):
    assert ARNS.resource_of(CTX, operation, params) == resource


def test_group_name_and_identifier_are_exclusive():
    # API Reference, GetLogEvents/FilterLogEvents: "You must include either
    # logGroupIdentifier or logGroupName, but not both."
    with pytest.raises(AwsError) as exc:
        required_group({"logGroupName": "a", "logGroupIdentifier": "a"})
    assert exc.value.code == "InvalidParameterException"
    with pytest.raises(AwsError) as exc:
        required_group({})
    assert exc.value.code == "InvalidParameterException"
    assert required_group({"logGroupIdentifier": GROUP + ":*"}) == "/aws/lambda/f"
