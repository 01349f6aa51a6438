"""The CloudWatch Logs operations over the log store, each taking the operation's input
and returning its output members (the json frame validates and serializes by the model)."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.services.logs.arns import Arns, required_group
from cove.services.logs.errors import invalid
from cove.services.logs.paging import page
from cove.storage.log_events import LogEvent, LogEvents, LogGroup, LogStream


def handlers(store: LogEvents, arns: Arns) -> dict[str, Handler]:
    def create_log_group(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = p["logGroupName"]
        # as AWS answers a name in its own namespace
        if name.lower().startswith("aws/"):
            raise invalid("Log groups starting with AWS/ are reserved for AWS.")
        store.create_group(name)
        return {}

    def describe_log_groups(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("logGroupNamePrefix") and p.get("logGroupNamePattern"):
            raise invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive")
        groups = store.groups(p.get("logGroupNamePrefix"), p.get("logGroupNamePattern"))
        chosen, token = page(groups, lambda g: g.name, p.get("nextToken"), p.get("limit"))
        return {"logGroups": [group_doc(g) for g in chosen], "nextToken": token}

    def delete_log_group(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.delete_group(p["logGroupName"])
        return {}

    def put_retention_policy(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.set_retention(p["logGroupName"], p["retentionInDays"])
        return {}

    def delete_retention_policy(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.set_retention(p["logGroupName"], None)
        return {}

    def create_log_stream(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        store.create_stream(p["logGroupName"], p["logStreamName"])
        return {}

    def describe_log_streams(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        group = required_group(p)
        by_time = p.get("orderBy") == "LastEventTime"
        if by_time and p.get("logStreamNamePrefix"):
            # as AWS answers it (seen in turbot/steampipe-plugin-aws#1949)
            raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = store.streams(group, p.get("logStreamNamePrefix"))
        if by_time:
            streams.sort(key=lambda s: (s.last_event or 0, s.name))
        if p.get("descending"):
            streams.reverse()
        chosen, token = page(streams, lambda s: s.name, p.get("nextToken"), p.get("limit"))
        return {"logStreams": [stream_doc(group, s) for s in chosen], "nextToken": token}

    def put_log_events(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        events = [(e["timestamp"], e["message"]) for e in p["logEvents"]]
        rejected = store.put_events(p["logGroupName"], p["logStreamName"], events)
        if not rejected:
            return {}
        info = {
            "tooNewLogEventStartIndex": rejected.too_new_start,
            "tooOldLogEventEndIndex": rejected.too_old_end,
            "expiredLogEventEndIndex": rejected.expired_end,
        }
        return {"rejectedLogEventsInfo": {k: v for k, v in info.items() if v is not None}}

    def get_log_events(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        result = store.get_events(
            required_group(p),
            p["logStreamName"],
            start=p.get("startTime"),
            end=p.get("endTime"),
            limit=p.get("limit"),
            start_from_head=bool(p.get("startFromHead")),
            token=p.get("nextToken"),
        )
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion}
                for e in result.events
            ],
            "nextForwardToken": result.forward_token,
            "nextBackwardToken": result.backward_token,
        }

    def filter_log_events(_ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        result = store.filter_events(
            required_group(p),
            stream_names=p.get("logStreamNames"),
            stream_prefix=p.get("logStreamNamePrefix"),
            start=p.get("startTime"),
            end=p.get("endTime"),
            pattern=p.get("filterPattern"),
            limit=p.get("limit"),
            token=p.get("nextToken"),
        )
        done = result.next_token is None
        return {
            "events": [filtered_doc(e) for e in result.events],
            # deprecated in the API but still answered; "completely" once nothing is left
            "searchedLogStreams": [
                {"logStreamName": name, "searchedCompletely": done}
                for name in result.searched_streams
            ],
            "nextToken": result.next_token,
        }

    def group_doc(g: LogGroup) -> dict[str, Any]:
        arn = arns.group(g.name)
        return {
            "logGroupName": g.name,
            "creationTime": g.created,
            "retentionInDays": g.retention_days,
            "metricFilterCount": 0,
            "arn": f"{arn}:*",  # DescribeLogGroups' arn ends in ":*", logGroupArn does not
            "logGroupArn": arn,
            "storedBytes": g.stored_bytes,
            "logGroupClass": "STANDARD",
        }

    def stream_doc(group: str, s: LogStream) -> dict[str, Any]:
        return {
            "logStreamName": s.name,
            "creationTime": s.created,
            "firstEventTimestamp": s.first_event,
            "lastEventTimestamp": s.last_event,
            "lastIngestionTime": s.last_ingestion,
            "arn": arns.stream(group, s.name),
            "storedBytes": 0,  # deprecated: AWS answers 0
        }

    return {
        "CreateLogGroup": create_log_group,
        "DescribeLogGroups": describe_log_groups,
        "DeleteLogGroup": delete_log_group,
        "PutRetentionPolicy": put_retention_policy,
        "DeleteRetentionPolicy": delete_retention_policy,
        "CreateLogStream": create_log_stream,
        "DescribeLogStreams": describe_log_streams,
        "PutLogEvents": put_log_events,
        "GetLogEvents": get_log_events,
        "FilterLogEvents": filter_log_events,
    }


def filtered_doc(e: LogEvent) -> dict[str, Any]:
    return {
        "logStreamName": e.stream,
        "timestamp": e.timestamp,
        "message": e.message,
        "ingestionTime": e.ingestion,
        "eventId": f"{e.timestamp:019d}{e.seq:019d}",
    }
