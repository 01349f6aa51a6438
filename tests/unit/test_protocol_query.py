"""The query protocol (IAM, STS) against botocore's own client side: every operation's
example input, serialized by botocore's QuerySerializer, parses back to itself; every
example output, serialized by Cove, reads back in botocore's QueryParser.

What pins each rule:
- request names, `.member.N`, `.entry.N.key/.value`, flattened lists renamed after the
  member's locationName, `Name=` for an empty list, true/false, base64 blobs, ISO 8601
  timestamps: botocore/serialize.py, QuerySerializer;
- the response document `<XResponse xmlns=...><XResult>` and the error document
  `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`: the sample
  responses on the action pages of the IAM and STS API references (API_GetUser,
  API_GetCallerIdentity) and botocore/parsers.py, QueryParser
  (_find_result_wrapped_shape, _do_error_parse);
- error codes MissingAction, InvalidAction, InvalidParameterValue, MalformedQueryString
  (HTTP 404), MissingParameter: the "Common Errors" page of the IAM and STS API
  references; InvalidQueryParameter for a parameter the action does not have, likewise
  ("The AWS query string is malformed or does not adhere to AWS standards").

No operation is excluded or special-cased: all 181 IAM and 12 STS operations of botocore
1.44.8 round-trip both ways. What the wire drops (an empty structure, an empty map) is
normalized by query_roundtrip.on_the_wire, which says why.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.model import ServiceModel
from query_roundtrip import client, client_parse, client_request, expected_input
from shape_examples import WHEN, example

from cove.errors import AwsError
from cove.protocol import query

SESSION = botocore.session.get_session()
MODELS = {name: SESSION.get_service_model(name) for name in ("iam", "sts")}
CASES = [
    pytest.param(service, name, id=f"{service}.{name}")
    for service, model in MODELS.items()
    for name in model.operation_names
]


@pytest.mark.parametrize(("service", "name"), CASES)
def test_request_round_trip(service: str, name: str) -> None:
    model = MODELS[service]
    operation = model.operation_model(name)
    shape = operation.input_shape
    params = example(shape) if shape is not None else {}
    body = client_request("query", operation, params)
    parsed_operation, parsed = query.parse_request(model, "", body)
    assert parsed_operation.name == name
    assert parsed == expected_input(shape, params, empty_lists_sent=True)


@pytest.mark.parametrize(("service", "name"), CASES)
def test_response_round_trip(service: str, name: str) -> None:
    operation = MODELS[service].operation_model(name)
    shape = operation.output_shape
    value = example(shape) if shape is not None else {}
    body = query.response_body(operation, value, "req-1")
    parsed = client_parse("query", shape, body)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
    # Output needs no normalizing: <X/> reads back as {} or [], timestamps as aware datetimes.
    assert parsed == value


def test_round_trip_counts() -> None:
    """Every operation of both services is covered (a model update adds to these)."""
    assert len(MODELS["iam"].operation_names) >= 170
    assert len(MODELS["sts"].operation_names) >= 10


def test_response_document_layout() -> None:
    operation = MODELS["sts"].operation_model("GetCallerIdentity")
    body = query.response_body(operation, {"Account": "123456789012"}, "req-9").decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult>"
        "<ResponseMetadata><RequestId>req-9</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    ) in body


def test_list_members_and_timestamps_in_xml() -> None:
    operation = MODELS["iam"].operation_model("ListUsers")
    users = [{"Path": "/", "UserName": "u", "UserId": "AIDA", "Arn": "arn", "CreateDate": WHEN}]
    body = query.response_body(operation, {"Users": users, "IsTruncated": False}, "r").decode()
    assert "<Users><member><Path>/</Path>" in body
    assert "<CreateDate>2026-11-30T12:34:56Z</CreateDate>" in body
    assert "<IsTruncated>false</IsTruncated>" in body


@pytest.mark.parametrize(
    ("err", "kind"),
    [
        (AwsError("NoSuchEntity", "The user with name bob cannot be found.", 404), "Sender"),
        (AwsError("ServiceFailure", "Boom.", 500, sender_fault=False), "Receiver"),
    ],
)
def test_error_reads_in_botocore(err: AwsError, kind: str) -> None:
    body = query.error_body(err, "req-2", MODELS["iam"])
    parsed = client_parse("query", None, body, err.status)
    assert parsed["Error"] == {"Type": kind, "Code": err.code, "Message": err.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-2"


def _form(**params: str) -> bytes:
    return urlencode(params).encode()


def _error(model: ServiceModel, body: bytes, query_string: str = "") -> AwsError:
    with pytest.raises(AwsError) as info:
        query.parse_request(model, query_string, body)
    return info.value


IAM = MODELS["iam"]


def test_get_reads_the_query_string() -> None:
    operation, params = query.parse_request(IAM, "Action=GetUser&UserName=bob%2Bx", b"")
    assert operation.name == "GetUser"
    assert params == {"UserName": "bob+x"}


def test_presigned_query_parameters_are_not_input() -> None:
    qs = "Action=GetUser&Version=2010-05-08&X-Amz-Signature=ab&X-Amz-Date=20261201T000000Z"
    assert query.parse_request(IAM, qs, b"")[1] == {}


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        (_form(Version="2010-05-08"), "MissingAction", 400),
        (_form(Action="", Version="2010-05-08"), "MissingAction", 400),
        (_form(Action="GetBucket"), "InvalidAction", 400),
        (_form(Action="GetUser", Bogus="1"), "InvalidQueryParameter", 400),
        (_form(Action="GetUser", **{"UserName.member.1": "x"}), "InvalidQueryParameter", 400),
        (_form(Action="ListUsers", MaxItems="abc"), "InvalidParameterValue", 400),
        (_form(Action="ListUsers", MaxItems="1.5"), "InvalidParameterValue", 400),
        (_form(Action="ListUsers", MaxItems="99999999999"), "InvalidParameterValue", 400),
        (_form(Action="ListUsers", MaxItems="१"), "InvalidParameterValue", 400),
        (b"Action=GetUser&UserName=a&UserName=b", "MalformedQueryString", 404),
        (b"Action=GetUser&UserName=%ff", "MalformedQueryString", 404),
        (b"\xff", "MalformedQueryString", 404),
    ],
)
def test_malformed_requests(body: bytes, code: str, status: int) -> None:
    err = _error(IAM, body)
    assert (err.code, err.status) == (code, status)


def test_unknown_parameter_names_the_parameter() -> None:
    body = _form(Action="CreateUser", UserName="u", **{"Tags.member.1.Colour": "red"})
    err = _error(IAM, body)
    assert err.message == "The query parameter Tags.member.1.Colour is invalid."


def test_bad_value_names_parameter_and_value() -> None:
    err = _error(IAM, _form(Action="ListUsers", MaxItems="abc"))
    assert err.message == (
        "Value 'abc' for parameter MaxItems is invalid. Reason: expected an integer."
    )


def test_bad_boolean() -> None:
    err = _error(IAM, _form(Action="UpdateAccountPasswordPolicy", RequireSymbols="yes"))
    assert err.code == "InvalidParameterValue"


def test_list_items_are_read_in_number_order() -> None:
    body = _form(
        Action="GetAccountAuthorizationDetails",
        **{"Filter.member.2": "Role", "Filter.member.1": "User", "Filter.member.10": "Group"},
    )
    assert query.parse_request(IAM, "", body)[1] == {"Filter": ["User", "Role", "Group"]}


def test_list_numbers_must_be_canonical() -> None:
    body = _form(Action="GetAccountAuthorizationDetails", **{"Filter.member.01": "User"})
    assert _error(IAM, body).code == "InvalidQueryParameter"


def test_map_entry_without_value() -> None:
    body = _form(Action="AcquireRole", **{"ReplacementValues.entry.1.key": "k"})
    err = _error(IAM, body)
    assert err.code == "MissingParameter"
    assert "ReplacementValues.entry.1.value" in err.message


# Traits IAM and STS do not use, on a made-up query service: flattened lists (named after
# their member's locationName or not), flattened maps, custom key/value names, the three
# timestampFormats, and the float spellings botocore uses.
SYNTHETIC = {
    "metadata": {
        "apiVersion": "2020-01-01",
        "endpointPrefix": "synth",
        "protocol": "query",
        "serviceId": "Synth",
        "signatureVersion": "v4",
        "xmlNamespace": "https://synth.amazonaws.com/doc/2020-01-01/",
    },
    "operations": {
        "Mirror": {
            "name": "Mirror",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "Everything"},
            "output": {"shape": "Everything", "resultWrapper": "MirrorResult"},
        }
    },
    "shapes": {
        "Everything": {
            "type": "structure",
            "members": {
                "Flat": {"shape": "FlatList"},
                "FlatNamed": {"shape": "FlatNamedList"},
                "Wrapped": {"shape": "NamedList"},
                "Nested": {"shape": "NestedList"},
                "Attributes": {"shape": "FlatMap", "locationName": "Attribute"},
                "Labels": {"shape": "CustomMap", "locationName": "Label"},
                "Epoch": {"shape": "EpochTime"},
                "Iso": {"shape": "IsoTime"},
                "Http": {"shape": "HttpTime"},
                "Ratio": {"shape": "Double"},
                "Big": {"shape": "Long"},
                "Data": {"shape": "Blob"},
                "On": {"shape": "Boolean"},
            },
        },
        "FlatList": {"type": "list", "member": {"shape": "String"}, "flattened": True},
        "FlatNamedList": {
            "type": "list",
            "member": {"shape": "String", "locationName": "Item"},
            "flattened": True,
        },
        "NamedList": {"type": "list", "member": {"shape": "String", "locationName": "Thing"}},
        "NestedList": {"type": "list", "member": {"shape": "NamedList"}},
        "FlatMap": {
            "type": "map",
            "key": {"shape": "String", "locationName": "Name"},
            "value": {"shape": "String", "locationName": "Value"},
            "flattened": True,
        },
        "CustomMap": {
            "type": "map",
            "key": {"shape": "String", "locationName": "K"},
            "value": {"shape": "Long", "locationName": "V"},
        },
        "EpochTime": {"type": "timestamp", "timestampFormat": "unixTimestamp"},
        "IsoTime": {"type": "timestamp", "timestampFormat": "iso8601"},
        "HttpTime": {"type": "timestamp", "timestampFormat": "rfc822"},
        "String": {"type": "string"},
        "Long": {"type": "long"},
        "Double": {"type": "double"},
        "Blob": {"type": "blob"},
        "Boolean": {"type": "boolean"},
    },
}
SYNTH = ServiceModel(SYNTHETIC, "synth")
EVERYTHING = {
    "Flat": ["a", "b c"],
    "FlatNamed": ["x"],
    "Wrapped": ["t1", "t2"],
    "Nested": [["n1"], []],
    "Attributes": {"colour": "red", "size": "L"},
    "Labels": {"k1": 2**40},
    "Epoch": WHEN,
    "Iso": WHEN.replace(microsecond=250000),
    "Http": WHEN,
    "Ratio": float("inf"),
    "Big": -(2**63),
    "Data": b"\x00\xff",
    "On": False,
}


def test_synthetic_request_names() -> None:
    body = client_request("query", SYNTH.operation_model("Mirror"), EVERYTHING).decode()
    # The wire names themselves, as botocore writes them.
    for name in (
        "Flat.1=a", "Flat.2=b+c", "Item.1=x", "Wrapped.Thing.2=t2", "Nested.member.1.Thing.1=n1",
        "Nested.member.2=&", "Attribute.1.Name=colour", "Attribute.2.Value=L",
        "Label.entry.1.K=k1", "Label.entry.1.V=1099511627776", "Epoch=1796042096",
        "Ratio=Infinity", "On=false",
    ):  # fmt: skip
        assert name in body


def test_synthetic_request_round_trip() -> None:
    operation = SYNTH.operation_model("Mirror")
    body = client_request("query", operation, EVERYTHING)
    assert query.parse_request(SYNTH, "", body)[1] == EVERYTHING


def test_synthetic_response_round_trip() -> None:
    operation = SYNTH.operation_model("Mirror")
    body = query.response_body(operation, EVERYTHING, "r")
    parsed = client_parse("query", operation.output_shape, body)
    parsed.pop("ResponseMetadata")
    # The ISO 8601 timestamp keeps milliseconds, the others whole seconds.
    assert parsed == EVERYTHING
    text = body.decode()
    assert "<Iso>2026-11-30T12:34:56.250Z</Iso>" in text
    assert "<Http>Mon, 30 Nov 2026 12:34:56 GMT</Http>" in text
    assert "<Attribute><Name>colour</Name><Value>red</Value></Attribute>" in text
    assert "<Item>x</Item>" in text


def test_timestamps_without_zone_are_utc() -> None:
    body = _form(Action="Mirror", Iso="2026-11-30T12:34:56")
    assert query.parse_request(SYNTH, "", body)[1] == {"Iso": WHEN}


@pytest.mark.parametrize(
    ("name", "text"),
    [("Epoch", "soon"), ("Iso", "30/11/2026"), ("Http", "yesterday"), ("Data", "!!"),
     ("Ratio", "1,5"), ("Big", str(2**63))],
)  # fmt: skip
def test_synthetic_bad_values(name: str, text: str) -> None:
    err = _error(SYNTH, _form(Action="Mirror", **{name: text}))
    assert (err.code, err.status) == ("InvalidParameterValue", 400)


def test_epoch_seconds_may_have_a_fraction() -> None:
    body = _form(Action="Mirror", Epoch="1796042096.5")
    assert query.parse_request(SYNTH, "", body)[1] == {
        "Epoch": WHEN + dt.timedelta(milliseconds=500)
    }


def test_reserved_characters_round_trip() -> None:
    """Form encoding (quote_plus) on the way in, XML escaping on the way out."""
    tricky = "a&b=c+d %é<x>\"'"
    operation = IAM.operation_model("CreateUser")
    body = client_request("query", operation, {"UserName": tricky, "Path": ""})
    assert query.parse_request(IAM, "", body)[1] == {"UserName": tricky, "Path": ""}
    output = {"User": {"UserName": tricky, "Path": "/", "UserId": "u", "Arn": "a",
                       "CreateDate": WHEN}}  # fmt: skip
    xml = query.response_body(operation, output, "r")
    parsed = client_parse("query", operation.output_shape, xml)
    assert parsed["User"]["UserName"] == tricky


def test_post_body_and_query_string_are_one_form() -> None:
    operation, params = query.parse_request(IAM, "Action=GetUser", b"UserName=bob")
    assert (operation.name, params) == ("GetUser", {"UserName": "bob"})
    assert _error(IAM, b"Action=GetUser", "Action=GetUser").code == "MalformedQueryString"


def test_absurdly_nested_name_is_refused_not_recursed() -> None:
    err = _error(IAM, b"Action=GetUser&" + b"a." * 5000 + b"=1")
    assert (err.code, err.status) == ("MalformedQueryString", 404)


@pytest.mark.parametrize(
    "body",
    [
        b"Action=ListUsers&MaxItems=" + b"9" * 5000,
        b"Action=GetAccountAuthorizationDetails&Filter.member." + b"1" * 5000 + b"=User",
    ],
)
def test_huge_numbers_are_client_errors(body: bytes) -> None:
    assert _error(IAM, body).status == 400


def test_leading_zeros_are_still_numbers() -> None:
    body = _form(Action="ListUsers", MaxItems="0" * 30 + "7")
    assert query.parse_request(IAM, "", body)[1] == {"MaxItems": 7}


def _iam_server(request: AWSPreparedRequest) -> tuple[int, bytes]:
    """GetUser as a Cove handler would answer it, through Cove's parser and serializer."""
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    operation, params = query.parse_request(IAM, "", body)
    if params["UserName"] == "nobody":
        err = AwsError("NoSuchEntity", "The user with name nobody cannot be found.", 404)
        return err.status, query.error_body(err, "req-e", IAM)
    user = {"UserName": params["UserName"], "Path": "/", "UserId": "AIDAX", "Arn": "arn:x",
            "CreateDate": WHEN, "Tags": [{"Key": "team", "Value": "ml"}]}  # fmt: skip
    return 200, query.response_body(operation, {"User": user}, "req-ok")


def test_a_real_botocore_client() -> None:
    iam = client("iam", _iam_server)
    got = iam.get_user(UserName="bob")
    assert got["User"]["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert got["User"]["CreateDate"] == WHEN
    assert got["ResponseMetadata"]["RequestId"] == "req-ok"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as info:
        iam.get_user(UserName="nobody")
    assert info.value.response["Error"]["Message"] == "The user with name nobody cannot be found."
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
