"""OperationBinding's rules beyond the round trip with botocore (test_protocol_rest.py):
streaming payloads handed through unread, the HTTP layer's Content-Length, verbatim
members, a service's answer to values their type cannot hold, the status HTTP sets,
XML payload roots, the order output members are written in."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

from cove.errors import AwsError
from cove.http.messages import FileBody
from cove.protocol.rest import OperationBinding, binding

S3 = botocore.session.get_session().get_service_model("s3")
WHEN = datetime.datetime(2026, 11, 30, 12, 34, 56, tzinfo=datetime.UTC)


def s3(name: str, **rules: Any) -> OperationBinding:
    return OperationBinding(S3.operation_model(name), **rules)


class Unreadable:
    """A body stream that fails the test if anything reads it."""

    def __iter__(self) -> Iterator[bytes]:
        raise AssertionError("the binding read the stream")


def test_a_streaming_payload_is_handed_through_unread() -> None:
    put = s3("PutObject")
    stream = Unreadable()
    parsed = put.parse({"Bucket": "b", "Key": "k"}, {}, {"content-type": "text/x"}, stream)
    assert parsed["Body"] is stream and parsed["ContentType"] == "text/x"
    assert put.streams_input and not s3("CopyObject").streams_input


def test_an_xml_payload_is_read_later_or_at_once() -> None:
    delete = s3("DeleteObjects")
    body = b"<Delete><Object><Key>k</Key></Object><Quiet>true</Quiet></Delete>"
    assert delete.parse({"Bucket": "b"}, {"delete": [""]}, {}) == {"Bucket": "b"}
    assert delete.payload_name == "Delete"
    expected = {"Delete": {"Objects": [{"Key": "k"}], "Quiet": True}}
    assert delete.parse_body(body) == expected
    assert delete.parse({"Bucket": "b"}, {}, {}, body) == {"Bucket": "b", **expected}


def test_an_xml_payload_must_be_its_element() -> None:
    with pytest.raises(AwsError) as caught:
        s3("DeleteObjects").parse_body(b"<Remove><Object><Key>k</Key></Object></Remove>")
    assert caught.value.code == "MalformedXML"
    assert caught.value.message.endswith("against our published schema")  # S3's own words


def test_a_file_body_and_the_length_a_head_announces() -> None:
    get = s3("GetObject")
    file = FileBody(io.BytesIO(b"0123456789"), 2, 5)
    response = get.serialize({"Body": file, "ContentLength": 5, "ETag": '"e"'}, "req-1")
    assert response.file is file and response.body == b""
    assert not any(k.lower() == "content-length" for k, _ in response.headers)

    head = s3("HeadObject").serialize({"ContentLength": 10, "ETag": '"e"'}, "req-1")
    assert head.content_length == 10 and head.body == b""
    assert not any(k.lower() == "content-length" for k, _ in head.headers)


def test_verbatim_members_keep_their_text_both_ways() -> None:
    put = s3("PutObject", verbatim=frozenset({"Expires"}))
    assert put.parse({}, {}, {"expires": "whenever"})["Expires"] == "whenever"
    get = s3("GetObject", verbatim=frozenset({"Expires"}))
    assert ("Expires", "whenever") in get.serialize({"Expires": "whenever"}).headers
    # without the rule, a timestamp is one
    assert binding(S3.operation_model("PutObject")).parse(
        {}, {}, {"expires": "Mon, 30 Nov 2026 12:34:56 GMT"}
    )["Expires"] == WHEN


def test_a_service_answers_values_their_type_cannot_hold() -> None:
    seen: list[tuple[str, str, str]] = []

    def invalid(member: str, wire: str, text: str) -> Any:
        seen.append((member, wire, text))
        if member == "MaxKeys":
            raise AwsError("InvalidArgument", f"bad {wire}")
        return None  # left out

    listing = s3("ListObjectsV2", invalid=invalid)
    assert listing.parse({"Bucket": "b"}, {"fetch-owner": ["yes"]}, {}) == {"Bucket": "b"}
    with pytest.raises(AwsError, match="bad max-keys"):
        listing.parse({"Bucket": "b"}, {"max-keys": ["ten"]}, {})
    assert seen == [("FetchOwner", "fetch-owner", "yes"), ("MaxKeys", "max-keys", "ten")]
    # without one, the protocol's own error
    with pytest.raises(AwsError) as caught:
        s3("ListObjectsV2").parse({"Bucket": "b"}, {"max-keys": ["ten"]}, {})
    assert caught.value.code == "InvalidArgument"


def test_the_status_http_sets_wins() -> None:
    get = s3("GetObject")
    assert get.serialize({}).status == 200
    assert get.serialize({}, status=206).status == 206
    assert s3("DeleteObject").serialize({}).status == 204  # the model's responseCode


def test_output_is_written_in_the_order_given() -> None:
    listing = s3("ListObjectsV2")
    response = listing.serialize(
        {"Name": "b", "KeyCount": 0, "IsTruncated": False}, root="ListBucketResult",
        namespace="http://s3.amazonaws.com/doc/2006-03-01/",
    )
    assert response.body.endswith(
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>'
        b"<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"
    )
    head = s3("HeadObject").serialize({"ETag": '"e"', "ContentType": "text/x"}, "req-1")
    assert [k for k, _ in head.headers] == [
        "ETag", "Content-Type", "x-amz-request-id", "x-amz-id-2",
    ]


def test_xml_timestamps_carry_milliseconds_and_an_empty_document_is_one() -> None:
    parts = s3("ListParts").serialize({"Parts": [{"PartNumber": 1, "LastModified": WHEN}]})
    assert b"<LastModified>2026-11-30T12:34:56.000Z</LastModified>" in parts.body
    versioning = s3("GetBucketVersioning").serialize({}, root="VersioningConfiguration")
    assert versioning.body.endswith(b"<VersioningConfiguration />")
    assert ("Content-Type", "application/xml") in versioning.headers


@pytest.mark.parametrize("text", ["+1", " 1", "1_0", "\u0661", ""])
def test_integers_are_ascii_digits_as_botocore_writes_them(text: str) -> None:
    seen: list[str] = []
    get = s3("GetObject", invalid=lambda member, wire, value: seen.append(value))
    assert "PartNumber" not in get.parse({}, {"partNumber": [text]}, {})
    assert seen == [text]
    assert get.parse({}, {"partNumber": ["-3"]}, {})["PartNumber"] == -3
