"""S3 operations are found through botocore's model (RestRouter, strict about required
members), then looked up among what Cove implements: the same answers the hand-written
route table gave, and copies now named as the operations they are."""

from __future__ import annotations

import pytest

from cove.errors import AwsError
from cove.http.messages import PUBLIC_LISTENER, Request, RequestContext
from cove.protocol.rest_routes import parse_query
from cove.services.s3.call import S3Call
from cove.services.s3.service import route

COPY = {"x-amz-copy-source": "src/key"}


def routed(method: str, bucket: str, key: str, query: str = "",
           headers: dict[str, str] | None = None) -> str:
    req = Request(method, "/", query, headers or {}, b"",
                  RequestContext(PUBLIC_LISTENER, "127.0.0.1"))
    call = S3Call(req, bucket, key, parse_query(query))
    try:
        return route(call)[0].name
    except AwsError as err:
        return f"{err.code} {err.status}"


@pytest.mark.parametrize("method, bucket, key, query, headers, expected", [
    ("GET", "", "", "", None, "ListBuckets"),
    ("GET", "b", "", "", None, "ListObjects"),
    ("GET", "b", "", "list-type=2", None, "ListObjectsV2"),
    ("GET", "b", "", "location", None, "GetBucketLocation"),
    ("GET", "b", "", "versioning", None, "GetBucketVersioning"),
    ("GET", "b", "", "uploads", None, "ListMultipartUploads"),
    ("PUT", "b", "", "", None, "CreateBucket"),
    ("HEAD", "b", "", "", None, "HeadBucket"),
    ("DELETE", "b", "", "", None, "DeleteBucket"),
    ("POST", "b", "", "delete", None, "DeleteObjects"),
    ("PUT", "b", "k", "", None, "PutObject"),
    ("PUT", "b", "k", "partNumber=1", None, "PutObject"),  # no uploadId: not a part
    ("PUT", "b", "k", "", COPY, "CopyObject"),
    ("GET", "b", "k", "partNumber=1", None, "GetObject"),
    ("HEAD", "b", "k", "", None, "HeadObject"),
    ("DELETE", "b", "k", "", None, "DeleteObject"),
    ("POST", "b", "k", "uploads", None, "CreateMultipartUpload"),
    ("PUT", "b", "k", "uploadId=1&partNumber=1", None, "UploadPart"),
    ("PUT", "b", "k", "uploadId=1&partNumber=1", COPY, "UploadPartCopy"),
    ("GET", "b", "k", "uploadId=1", None, "ListParts"),
    ("POST", "b", "k", "uploadId=1", None, "CompleteMultipartUpload"),
    ("DELETE", "b", "k", "uploadId=1", None, "AbortMultipartUpload"),
    # what Cove does not do: S3's own NotImplemented (501) or MethodNotAllowed (405)
    ("PUT", "b", "", "versioning", None, "NotImplemented 501"),
    ("GET", "b", "k", "location", None, "NotImplemented 501"),
    ("GET", "b", "k", "uploads", None, "NotImplemented 501"),
    ("GET", "b", "", "acl", None, "NotImplemented 501"),
    ("POST", "b", "k", "", None, "MethodNotAllowed 405"),
    ("PATCH", "b", "k", "", None, "MethodNotAllowed 405"),
    ("GET", "b", "k", "versionId=3", None, "InvalidArgument 400"),
])
def test_route(method, bucket, key, query, headers, expected) -> None:
    assert routed(method, bucket, key, query, headers) == expected
