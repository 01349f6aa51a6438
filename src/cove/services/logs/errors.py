"""Log store failures as CloudWatch Logs answers them (every one HTTP 400). The texts are
the ones the service sends, as clients record them: "The specified log group does not
exist.", "The specified log group already exists", "Upload too large: 1049882 bytes
exceeds limit of 1048576", "Log event too large: 292824 bytes exceeds limit of 262144",
"Log events in a single PutLogEvents request must be in chronological order.", "The
specified nextToken is invalid."."""

from __future__ import annotations

from dataclasses import dataclass

from cove.errors import AwsError
from cove.storage.log_events import RETENTION_DAYS, LogFailure, LogsError

INVALID = "InvalidParameterException"
NOT_FOUND = "ResourceNotFoundException"
EXISTS = "ResourceAlreadyExistsException"


@dataclass(frozen=True)
class WireError:
    code: str
    message: str  # formatted with the failure's details


_RETENTION_SET = ", ".join(str(d) for d in RETENTION_DAYS)

WIRE_ERRORS: dict[LogFailure, WireError] = {
    LogFailure.GROUP_EXISTS: WireError(EXISTS, "The specified log group already exists"),
    LogFailure.GROUP_MISSING: WireError(NOT_FOUND, "The specified log group does not exist."),
    LogFailure.STREAM_EXISTS: WireError(EXISTS, "The specified log stream already exists"),
    LogFailure.STREAM_MISSING: WireError(NOT_FOUND, "The specified log stream does not exist."),
    LogFailure.INVALID_TOKEN: WireError(INVALID, "The specified nextToken is invalid."),
    LogFailure.INVALID_RETENTION: WireError(
        INVALID,
        "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{_RETENTION_SET}]",
    ),
    LogFailure.BATCH_TOO_LARGE: WireError(
        INVALID, "Upload too large: {size} bytes exceeds limit of {limit}"
    ),
    LogFailure.EVENT_TOO_LARGE: WireError(
        INVALID, "Log event too large: {size} bytes exceeds limit of {limit}"
    ),
    LogFailure.NOT_CHRONOLOGICAL: WireError(
        INVALID, "Log events in a single PutLogEvents request must be in chronological order."
    ),
    LogFailure.SPAN_TOO_LONG: WireError(
        INVALID,
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
    ),
    LogFailure.INVALID_PATTERN: WireError(INVALID, "{reason}"),
    LogFailure.STREAM_SELECTION: WireError(
        INVALID, "Cannot specify both logStreamNames and logStreamNamePrefix."
    ),
}


def logs_error(err: LogsError) -> AwsError:
    wire = WIRE_ERRORS[err.failure]
    return AwsError(wire.code, wire.message.format(**err.details))


def invalid(message: str) -> AwsError:
    return AwsError(INVALID, message)
