"""Log group and stream ARNs, and the resource each operation is authorized on (Service
Authorization Reference, "Actions, resources, and condition keys for Amazon CloudWatch
Logs": log-group `arn:aws:logs:<region>:<account>:log-group:<name>`, log-stream
`...:log-group:<name>:log-stream:<stream>`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cove.errors import AwsError
from cove.http.messages import RequestContext
from cove.services.logs.errors import invalid

# Operations that act on one stream are authorized on the stream's ARN.
_ON_STREAM = frozenset({"CreateLogStream", "PutLogEvents", "GetLogEvents"})


@dataclass(frozen=True)
class Arns:
    region: str
    account: str

    def group(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"

    def stream(self, group: str, stream: str) -> str:
        return f"{self.group(group)}:log-stream:{stream}"

    def resource_of(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> str:
        try:
            name = group_name(params)
        except AwsError:  # the handler answers the malformed input
            name = None
        if name is None:
            return self.group("*")
        if operation in _ON_STREAM and isinstance(params.get("logStreamName"), str):
            return self.stream(name, params["logStreamName"])
        return self.group(name)


def group_name(params: dict[str, Any]) -> str | None:
    """The group an operation names: logGroupName, or logGroupIdentifier (a name or an
    ARN, "but not both", as the API Reference says of GetLogEvents and FilterLogEvents)."""
    name, identifier = params.get("logGroupName"), params.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if identifier is None:
        return name
    if identifier.startswith("arn:"):
        parts = identifier.split(":", 6)
        if len(parts) < 7 or parts[5] != "log-group":
            raise invalid(f"Invalid logGroupIdentifier: {identifier}")
        resource = parts[6]
        return resource[:-2] if resource.endswith(":*") else resource
    return identifier


def required_group(params: dict[str, Any]) -> str:
    name = group_name(params)
    if name is None:
        raise invalid("Should provide either logGroupName or logGroupIdentifier.")
    return name
