"""How much body each wire protocol takes when its service does not say (`body_plan`).

The JSON and query APIs answer an oversized request with the error AWS lists for every
service, `RequestEntityTooLargeException` with HTTP 413 (AWS API reference, "Common
Errors"). AWS does not document one size for all of them; 10 MiB is the ceiling of the
API Gateway front door and well above any SageMaker control-plane request. S3's XML
request documents (DeleteObjects, CompleteMultipartUpload) are refused with
`MaxMessageLengthExceeded` ("Your request was too big.", S3 API reference, "Error
responses").
"""

from __future__ import annotations

from cove.errors import AwsError
from cove.http.messages import BodyPlan

API_BODY_LIMIT = 10 * 1024 * 1024
XML_BODY_LIMIT = 10 * 1024 * 1024
# Requests that carry no body of their own size (GET /metrics): 1 MiB is plenty.
DEFAULT_BODY_LIMIT = 1024 * 1024


def entity_too_large(size: int, limit: int = API_BODY_LIMIT) -> AwsError:
    return AwsError(
        "RequestEntityTooLargeException",
        f"Request size {size} exceeded {limit} bytes",
        413,
    )


def message_too_long(size: int) -> AwsError:
    return AwsError(
        "MaxMessageLengthExceeded",
        "Your request was too big.",
        fields={"MaxMessageLengthBytes": XML_BODY_LIMIT},
    )


API_PLAN = BodyPlan(API_BODY_LIMIT, entity_too_large)
XML_PLAN = BodyPlan(XML_BODY_LIMIT, message_too_long)
DEFAULT_PLAN = BodyPlan(DEFAULT_BODY_LIMIT, lambda size: entity_too_large(size, DEFAULT_BODY_LIMIT))

BY_PROTOCOL = {"json": API_PLAN, "query": API_PLAN, "ec2": API_PLAN, "rest-xml": XML_PLAN}


def request_timeout() -> AwsError:
    """What S3 answers a client that stopped sending its body (S3 API reference, "Error
    responses": RequestTimeout, 400)."""
    return AwsError(
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within the "
        "timeout period. Idle connections will be closed.",
    )
