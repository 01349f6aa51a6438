"""CloudWatch Logs against a real server, with boto3 and the AWS CLI: groups, streams,
retention, PutLogEvents / GetLogEvents / FilterLogEvents, the errors AWS answers, and
`cove logs` on a group. Texts are cited where they are pinned."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cove.storage.log_events import LogEvents


def now_ms() -> int:
    return int(time.time() * 1000)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def logs(server):
    return server.client("logs")


def test_groups_streams_and_retention(logs):
    group = unique("/cove/test")
    logs.create_log_group(logGroupName=group)
    # AWS: ResourceAlreadyExistsException "The specified log group already exists"
    # (as clients record it, e.g. aws-robotics/cloudwatchlogs-ros1#1)
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName=group)
    assert error_of(exc) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    )
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    (found,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert found["logGroupName"] == group and found["retentionInDays"] == 7
    assert (
        found["arn"] == f"arn:aws:logs:us-east-1:{found['arn'].split(':')[4]}:log-group:{group}:*"
    )
    # PutRetentionPolicy: only the documented values (API Reference, retentionInDays)
    with pytest.raises(ClientError) as exc:
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    code, message = error_of(exc)
    assert code == "InvalidParameterException" and "Member must satisfy enum value set" in message

    logs.create_log_stream(logGroupName=group, logStreamName="b")
    logs.create_log_stream(logGroupName=group, logStreamName="a")
    with pytest.raises(ClientError) as exc:
        logs.create_log_stream(logGroupName=group, logStreamName="a")
    assert error_of(exc) == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    )
    names = [
        s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]
    ]
    assert names == ["a", "b"]
    logs.put_log_events(
        logGroupName=group, logStreamName="a", logEvents=[{"timestamp": now_ms(), "message": "x"}]
    )
    by_time = logs.describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True
    )
    assert [s["logStreamName"] for s in by_time["logStreams"]] == ["a", "b"]
    assert by_time["logStreams"][0]["lastEventTimestamp"] > 0
    # seen from AWS in turbot/steampipe-plugin-aws#1949
    with pytest.raises(ClientError) as exc:
        logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a"
        )
    assert error_of(exc) == (
        "InvalidParameterException",
        "Cannot order by LastEventTime with a logStreamNamePrefix.",
    )

    logs.delete_log_group(logGroupName=group)
    # AWS: ResourceNotFoundException "The specified log group does not exist."
    with pytest.raises(ClientError) as exc:
        logs.delete_log_group(logGroupName=group)
    assert error_of(exc) == ("ResourceNotFoundException", "The specified log group does not exist.")
    with pytest.raises(ClientError) as exc:
        logs.describe_log_streams(logGroupName=group)
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_model_constraints_answer_invalid_parameter(logs):
    # Logs answers a broken constraint as InvalidParameterException (e.g.
    # awslabs/aws-embedded-metrics-java#65: "1 validation error detected: Value
    # 'testServiceName:latest-metrics' at 'logGroupName' failed to satisfy constraint:
    # Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+")
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="bad:name")
    code, message = error_of(exc)
    assert code == "InvalidParameterException"
    assert message == (
        "1 validation error detected: Value 'bad:name' at 'logGroupName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
    )


def test_put_and_get_events_with_tokens(logs):
    group, stream = unique("/cove/get"), "s"
    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as exc:
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now_ms(), "message": "x"}],
        )
    assert error_of(exc) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    t = now_ms()
    logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t + i, "message": f"m{i}"} for i in range(5)],
    )  # fmt: skip
    head = logs.get_log_events(
        logGroupName=group, logStreamName=stream, startFromHead=True, limit=3
    )
    assert [e["message"] for e in head["events"]] == ["m0", "m1", "m2"]
    rest = logs.get_log_events(
        logGroupName=group,
        logStreamName=stream,
        startFromHead=True,
        nextToken=head["nextForwardToken"],
    )
    assert [e["message"] for e in rest["events"]] == ["m3", "m4"]
    # API Reference, GetLogEvents: at the end "it returns the same token you passed in"
    end = logs.get_log_events(
        logGroupName=group,
        logStreamName=stream,
        startFromHead=True,
        nextToken=rest["nextForwardToken"],
    )
    assert end["events"] == [] and end["nextForwardToken"] == rest["nextForwardToken"]
    back = logs.get_log_events(
        logGroupName=group, logStreamName=stream, nextToken=rest["nextBackwardToken"]
    )
    assert [e["message"] for e in back["events"]] == ["m0", "m1", "m2"]
    assert all(e["ingestionTime"] >= t for e in back["events"])
    # as AWS answers a token it did not give (boto/boto3#1467)
    with pytest.raises(ClientError) as exc:
        logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken="f/bogus")
    assert error_of(exc) == ("InvalidParameterException", "The specified nextToken is invalid.")
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"  # no ":*": [\w#+=/:,.@-]*
    by_arn = logs.get_log_events(logGroupIdentifier=arn, logStreamName=stream, startFromHead=True)
    assert len(by_arn["events"]) == 5


def test_put_log_events_limits_and_rejections(logs):
    group, stream = unique("/cove/put"), "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    t = now_ms()

    def put(events):
        return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    # texts as AWS answers them (e.g. dibog/cloudwatch-logback-appender#17,
    # nhs-england-tools/terraform-aws-opennext#27)
    with pytest.raises(ClientError) as exc:
        put([{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
    assert error_of(exc) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    )
    with pytest.raises(ClientError) as exc:
        put(
            [{"timestamp": t, "message": "x" * 600_000}, {"timestamp": t, "message": "y" * 600_000}]
        )
    assert error_of(exc) == (
        "InvalidParameterException",
        "Upload too large: 1200052 bytes exceeds limit of 1048576",
    )
    # RejectedLogEventsInfo: tooOldLogEventEndIndex exclusive, tooNewLogEventStartIndex inclusive
    old = t - 14 * 24 * 3600 * 1000 - 60_000
    answer = put(
        [{"timestamp": old, "message": "old"}, {"timestamp": old + 120_000, "message": "ok"}]
    )
    assert answer["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    answer = put(
        [{"timestamp": t, "message": "now"}, {"timestamp": t + 3 * 3600 * 1000, "message": "new"}]
    )
    assert answer["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    got = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["ok", "now"]


LEVELS = ("INFO", "ERROR")


def test_filter_log_events_with_boto3_paging(logs):
    group = unique("/cove/filter")
    logs.create_log_group(logGroupName=group)
    t = now_ms()
    for stream, offset in (("alpha", 0), ("beta", 1)):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        batch = [
            {"timestamp": t + 2 * i + offset, "message": f"{stream} {LEVELS[i % 2]} {i}"}
            for i in range(10)
        ]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, filterPattern="ERROR", PaginationConfig={"PageSize": 3}
    )
    pages = list(pages)
    assert len(pages) == 4
    events = [e for p in pages for e in p["events"]]
    assert len(events) == 10
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert {e["logStreamName"] for e in events} == {"alpha", "beta"}
    assert pages[-1]["searchedLogStreams"] == [
        {"logStreamName": "alpha", "searchedCompletely": True},
        {"logStreamName": "beta", "searchedCompletely": True},
    ]
    alternatives = logs.filter_log_events(
        logGroupName=group, logStreamNames=["beta"], filterPattern='?"INFO 0" ?"ERROR 9"'
    )
    assert [e["message"] for e in alternatives["events"]] == ["beta INFO 0", "beta ERROR 9"]
    window = logs.filter_log_events(
        logGroupName=group, logStreamNamePrefix="al", startTime=t + 2, endTime=t + 4
    )
    assert [e["message"] for e in window["events"]] == ["alpha ERROR 1", "alpha INFO 2"]
    # API Reference, FilterLogEvents: both logStreamNames and logStreamNamePrefix is an
    # InvalidParameterException
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(
            logGroupName=group, logStreamNames=["alpha"], logStreamNamePrefix="a"
        )
    assert error_of(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(logGroupName=group, filterPattern='{ $.level = "ERROR" }')
    assert error_of(exc)[0] == "InvalidParameterException"


def test_aws_cli_reads_logs(server, logs):
    group = unique("/aws/lambda/cli")
    store_put(
        server,
        group,
        "2024/01/01/[$LATEST]abc",
        ["START RequestId: 1", "hello from the handler", "END RequestId: 1"],
    )
    groups = json.loads(
        server.aws("logs", "describe-log-groups", "--log-group-name-prefix", group).stdout
    )
    assert [g["logGroupName"] for g in groups["logGroups"]] == [group]
    streams = json.loads(
        server.aws("logs", "describe-log-streams", "--log-group-name", group).stdout
    )
    (stream,) = streams["logStreams"]
    assert stream["logStreamName"] == "2024/01/01/[$LATEST]abc"
    got = json.loads(server.aws(
        "logs", "get-log-events", "--log-group-name", group, "--log-stream-name",
        stream["logStreamName"], "--start-from-head",
    ).stdout)  # fmt: skip
    assert [e["message"] for e in got["events"]][1] == "hello from the handler"
    found = json.loads(server.aws(
        "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "hello",
    ).stdout)  # fmt: skip
    assert [e["message"] for e in found["events"]] == ["hello from the handler"]
    missing = server.aws("logs", "filter-log-events", "--log-group-name", group + "-x", check=False)
    assert missing.returncode != 0
    assert (
        "ResourceNotFoundException" in missing.stderr
        and "The specified log group does not exist." in missing.stderr
    )


def store_put(server, group: str, stream: str, messages: list[str]) -> None:
    """What a function's runtime does: LogSink.put on the server's store (another
    connection to the same logs.db, as `cove logs` opens it)."""
    store = LogEvents(server.data_dir)
    try:
        t = now_ms()
        store.put(group, stream, [(t + i, m) for i, m in enumerate(messages)])
    finally:
        store.close()


def test_cove_logs_prints_and_follows_a_group(server):
    group = unique("/aws/lambda/follow")
    store_put(server, group, "s1", ["first line", "second line"])
    cove = [sys.executable, "-m", "cove.cli", "logs"]
    out = subprocess.run(
        [*cove, group, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["s1 first line", "s1 second line"]
    follower = subprocess.Popen(
        [*cove, group, "-f", "--data-dir", str(server.data_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert follower.stdout.readline() == "s1 first line\n"
        assert follower.stdout.readline() == "s1 second line\n"
        store_put(server, group, "s2", ["later"])
        assert follower.stdout.readline() == "s2 later\n"
    finally:
        follower.terminate()
        follower.wait(10)
    gone = subprocess.run(
        [*cove, "/aws/lambda/none", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gone.returncode == 1 and "no job or log group named /aws/lambda/none" in gone.stderr


def test_iam_actions_on_group_and_stream_arns(server, logs):
    """logs:<Operation> on the group's ARN, or the stream's for stream operations."""
    group = unique("/cove/iam")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    iam = server.client("iam")
    user = unique("log-reader")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    statements = [
        {"Effect": "Allow", "Action": "logs:FilterLogEvents", "Resource": arn},
        {"Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": f"{arn}:log-stream:*"},
    ]
    iam.put_user_policy(
        UserName=user,
        PolicyName="read",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    reader = boto3.client(
        "logs", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip
    reader.filter_log_events(logGroupName=group)  # a new key and policy apply at once
    reader.get_log_events(logGroupName=group, logStreamName="s")
    with pytest.raises(ClientError) as exc:
        reader.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": now_ms(), "message": "x"}],
        )
    code, message = error_of(exc)
    assert code == "AccessDeniedException"
    assert f"is not authorized to perform: logs:PutLogEvents on resource: {arn}:log-stream:s" in (
        message
    )


def test_aws_cli_pages_events_as_aws_documents(server, logs):
    """AWS CLI v1 has no `aws logs tail` (a v2 command: AWS CLI v2 reference, "logs tail",
    https://awscli.amazonaws.com/v2/documentation/api/latest/reference/logs/tail.html);
    get-log-events and filter-log-events read the same events. GetLogEvents pages with
    nextForwardToken and, at the end of the stream, "returns the same token you passed
    in" (API Reference, GetLogEvents,
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html);
    the CLI follows FilterLogEvents' nextToken itself (--page-size) and hands out its own
    NextToken for --max-items."""
    assert "Invalid choice" in server.aws("logs", "tail", "/aws/lambda/x", check=False).stderr
    group, stream = unique("/cove/cli-paging"), "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    t = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t + i, "message": f"m{i}"} for i in range(5)])

    def get(*extra: str) -> dict:
        return json.loads(server.aws("logs", "get-log-events", "--log-group-name", group,
                                     "--log-stream-name", stream, *extra).stdout)  # fmt: skip

    seen, token = [], None
    for _ in range(4):
        page = get("--start-from-head", "--limit", "2", *(("--next-token", token) if token else ()))
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == ["m0", "m1", "m2", "m3", "m4"]
    assert page["events"] == [] and page["nextForwardToken"] == token  # the same token back
    # from the tail (no --start-from-head): the last events; forward from there, only new ones
    tail = get("--limit", "2")
    assert [e["message"] for e in tail["events"]] == ["m3", "m4"]
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t + 10, "message": "m5"}])  # fmt: skip
    newer = get("--next-token", tail["nextForwardToken"])
    assert [e["message"] for e in newer["events"]] == ["m5"]
    older = get("--next-token", tail["nextBackwardToken"], "--limit", "2")
    assert [e["message"] for e in older["events"]] == ["m1", "m2"]

    def filtered(*extra: str) -> dict:
        return json.loads(server.aws("logs", "filter-log-events", "--log-group-name", group,
                                     *extra).stdout)  # fmt: skip

    every = filtered("--page-size", "2")  # the CLI follows nextToken to the end
    assert [e["message"] for e in every["events"]] == [f"m{i}" for i in range(6)]
    first = filtered("--max-items", "4", "--page-size", "3")
    assert [e["message"] for e in first["events"]] == ["m0", "m1", "m2", "m3"]
    rest = filtered("--starting-token", first["NextToken"], "--page-size", "3")
    assert [e["message"] for e in rest["events"]] == ["m4", "m5"]
    window = filtered("--start-time", str(t + 1), "--end-time", str(t + 3))
    assert [e["message"] for e in window["events"]] == ["m1", "m2", "m3"]  # end inclusive
