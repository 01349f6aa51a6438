"""The ec2 protocol against botocore's own client side: every EC2 operation's example
input, serialized by botocore's EC2Serializer, parses back to itself; every example
output, serialized by Cove, reads back in botocore's EC2QueryParser.

What pins each rule:
- request names from queryName, else the locationName capitalized, else the member name;
  every list as `Name.N`, an empty list not sent: botocore/serialize.py, EC2Serializer
  (_get_serialized_name, _serialize_type_list);
- the response `<XResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` with a
  `<requestId>` and the members straight inside, lists as `<name><item>`: the sample
  responses on the EC2 API reference's action pages (API_DescribeRegions) and
  botocore/parsers.py, EC2QueryParser (_inject_response_metadata reads requestId from
  the root; no resultWrapper);
- the error `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>`:
  the "Error codes for the Amazon EC2 API" page (its example error response) and
  EC2QueryParser._do_error_parse;
- UnknownParameter ("The parameter X is not recognized"), InvalidParameterValue,
  MissingAction, InvalidAction: the EC2 API reference's common client error codes.

No operation is excluded or special-cased: all 830 EC2 operations of botocore 1.44.8
round-trip both ways. EC2Serializer leaves out empty lists, unlike QuerySerializer; the
expected input drops them (query_roundtrip.on_the_wire).
"""

from __future__ import annotations

from urllib.parse import urlencode

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ClientError
from botocore.model import ServiceModel
from query_roundtrip import client, client_parse, client_request, expected_input
from shape_examples import WHEN, example

from cove.errors import AwsError
from cove.protocol import ec2

EC2 = botocore.session.get_session().get_service_model("ec2")
CASES = [pytest.param(name, id=name) for name in EC2.operation_names]


@pytest.mark.parametrize("name", CASES)
def test_request_round_trip(name: str) -> None:
    operation = EC2.operation_model(name)
    shape = operation.input_shape
    params = example(shape) if shape is not None else {}
    body = client_request("ec2", operation, params)
    parsed_operation, parsed = ec2.parse_request(EC2, "", body)
    assert parsed_operation.name == name
    assert parsed == expected_input(shape, params, empty_lists_sent=False)


@pytest.mark.parametrize("name", CASES)
def test_response_round_trip(name: str) -> None:
    operation = EC2.operation_model(name)
    shape = operation.output_shape
    value = example(shape) if shape is not None else {}
    body = ec2.response_body(operation, value, "req-1")
    parsed = client_parse("ec2", shape, body)
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert parsed == value


def test_round_trip_count() -> None:
    assert len(EC2.operation_names) >= 600


def test_response_document_layout() -> None:
    operation = EC2.operation_model("DescribeRegions")
    output = {"Regions": [{"RegionName": "us-east-1", "Endpoint": "ec2.us-east-1"}]}
    body = ec2.response_body(operation, output, "req-9").decode()
    assert (
        '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        "<requestId>req-9</requestId>"
        "<regionInfo><item><regionName>us-east-1</regionName>"
        "<regionEndpoint>ec2.us-east-1</regionEndpoint></item></regionInfo>"
        "</DescribeRegionsResponse>"
    ) in body


def test_error_reads_in_botocore() -> None:
    err = AwsError("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist")
    body = ec2.error_body(err, "req-2")
    assert body.decode().endswith(
        "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
        "<Message>The instance ID 'i-1' does not exist</Message></Error></Errors>"
        "<RequestID>req-2</RequestID></Response>"
    )
    parsed = client_parse("ec2", None, body, 400)
    assert parsed["Error"] == {"Code": err.code, "Message": err.message}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-2"


def _form(**params: str) -> bytes:
    return urlencode(params).encode()


def _error(body: bytes, model: ServiceModel = EC2) -> AwsError:
    with pytest.raises(AwsError) as info:
        ec2.parse_request(model, "", body)
    return info.value


def test_describe_instances_wire_names() -> None:
    body = _form(**{
        "Action": "DescribeInstances", "Version": "2016-11-15", "InstanceId.1": "i-1",
        "InstanceId.2": "i-2", "Filter.1.Name": "tag:Name", "Filter.1.Value.1": "web",
        "MaxResults": "5", "DryRun": "false",
    })  # fmt: skip
    assert ec2.parse_request(EC2, "", body)[1] == {
        "InstanceIds": ["i-1", "i-2"],
        "Filters": [{"Name": "tag:Name", "Values": ["web"]}],
        "MaxResults": 5,
        "DryRun": False,
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_form(Version="2016-11-15"), "MissingAction"),
        (_form(Action="ListBuckets"), "InvalidAction"),
        (_form(Action="DescribeInstances", Bogus="1"), "UnknownParameter"),
        # botocore never writes `.member.` for ec2: such a name is not EC2's.
        (_form(Action="DescribeInstances", **{"InstanceId.member.1": "i"}), "UnknownParameter"),
        (_form(Action="DescribeInstances", MaxResults="five"), "InvalidParameterValue"),
        (_form(Action="DescribeInstances", DryRun="maybe"), "InvalidParameterValue"),
    ],
)
def test_malformed_requests(body: bytes, code: str) -> None:
    assert _error(body).code == code


def test_unknown_parameter_message() -> None:
    err = _error(_form(Action="DescribeInstances", ImageType="machine"))
    assert err.message == "The parameter ImageType is not recognized"


# EC2's naming on a made-up ec2-protocol service: queryName over locationName, a lower-case
# locationName capitalized on input, `flattened` meaningless for ec2 lists, list items
# `<item>` unless the member names them, a map with EC2's capitalized key/value names.
SYNTHETIC = {
    "metadata": {
        "apiVersion": "2020-01-01",
        "endpointPrefix": "synth",
        "protocol": "ec2",
        "serviceId": "Synth",
        "signatureVersion": "v4",
        "xmlNamespace": "http://synth.amazonaws.com/doc/2020-01-01",
    },
    "operations": {
        "Mirror": {
            "name": "Mirror",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "Everything"},
            "output": {"shape": "Everything"},
        }
    },
    "shapes": {
        "Everything": {
            "type": "structure",
            "members": {
                "DryRun": {"shape": "Boolean", "locationName": "dryRun"},
                "Ids": {"shape": "ItemList", "locationName": "instanceId"},
                "Picked": {"shape": "ItemList", "locationName": "pickedSet", "queryName": "Pick"},
                "Plain": {"shape": "PlainList", "locationName": "plainSet"},
                "Flat": {"shape": "FlatList"},
                "Labels": {"shape": "LabelMap", "locationName": "label"},
                "When": {"shape": "DateTime", "locationName": "when"},
                "Data": {"shape": "Blob", "locationName": "data"},
            },
        },
        "ItemList": {"type": "list", "member": {"shape": "String", "locationName": "item"}},
        "PlainList": {"type": "list", "member": {"shape": "String"}},
        "FlatList": {"type": "list", "member": {"shape": "String"}, "flattened": True},
        "LabelMap": {
            "type": "map",
            "key": {"shape": "String", "locationName": "name"},
            "value": {"shape": "String"},
        },
        "DateTime": {"type": "timestamp"},
        "String": {"type": "string"},
        "Boolean": {"type": "boolean"},
        "Blob": {"type": "blob"},
    },
}
SYNTH = ServiceModel(SYNTHETIC, "synth")
EVERYTHING = {
    "DryRun": True,
    "Ids": ["i-1", "i-2"],
    "Picked": ["p"],
    "Plain": ["q"],
    "Flat": ["f"],
    "Labels": {"env": "prod"},
    "When": WHEN,
    "Data": b"\x00\xff",
}


def test_synthetic_request() -> None:
    body = client_request("ec2", SYNTH.operation_model("Mirror"), EVERYTHING)
    text = body.decode()
    for name in (
        "DryRun=true", "InstanceId.2=i-2", "Pick.1=p", "PlainSet.1=q", "Flat.1=f",
        "Label.entry.1.Name=env", "Label.entry.1.value=prod", "When=2026-11-30T12%3A34%3A56Z",
    ):  # fmt: skip
        assert name in text
    assert ec2.parse_request(SYNTH, "", body)[1] == EVERYTHING


def test_synthetic_response() -> None:
    operation = SYNTH.operation_model("Mirror")
    body = ec2.response_body(operation, EVERYTHING, "r")
    text = body.decode()
    assert '<MirrorResponse xmlns="http://synth.amazonaws.com/doc/2020-01-01/">' in text
    assert "<instanceId><item>i-1</item><item>i-2</item></instanceId>" in text
    assert "<plainSet><item>q</item></plainSet>" in text
    assert "<when>2026-11-30T12:34:56Z</when>" in text
    parsed = client_parse("ec2", operation.output_shape, body)
    parsed.pop("ResponseMetadata")
    assert parsed == EVERYTHING


def test_version_and_presigned_parameters_are_not_input() -> None:
    qs = "Action=DescribeRegions&Version=2016-11-15&X-Amz-Signature=ab&X-Amz-Credential=c"
    assert ec2.parse_request(EC2, qs, b"")[1] == {}


def test_empty_list_name_is_an_empty_list() -> None:
    # EC2Serializer leaves empty lists out; the bare name QuerySerializer would send is
    # still read as one, the same way as for query.
    body = _form(Action="DescribeInstances", InstanceId="")
    assert ec2.parse_request(EC2, "", body)[1] == {"InstanceIds": []}


def _ec2_server(request: AWSPreparedRequest) -> tuple[int, bytes]:
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    operation, params = ec2.parse_request(EC2, "", body)
    if params.get("InstanceIds") == ["i-missing"]:
        err = AwsError("InvalidInstanceID.NotFound", "The instance ID 'i-missing' does not exist")
        return err.status, ec2.error_body(err, "req-e")
    reservation = {"ReservationId": "r-1", "Instances": [
        {"InstanceId": params["InstanceIds"][0], "LaunchTime": WHEN, "State": {"Name": "running"}}
    ]}  # fmt: skip
    return 200, ec2.response_body(operation, {"Reservations": [reservation]}, "req-ok")


def test_a_real_botocore_client() -> None:
    client_ = client("ec2", _ec2_server)
    got = client_.describe_instances(InstanceIds=["i-1"], Filters=[{"Name": "a", "Values": ["b"]}])
    instance = got["Reservations"][0]["Instances"][0]
    assert instance["InstanceId"] == "i-1"
    assert (instance["State"], instance["LaunchTime"]) == ({"Name": "running"}, WHEN)
    assert got["ResponseMetadata"]["RequestId"] == "req-ok"
    with pytest.raises(ClientError) as info:
        client_.describe_instances(InstanceIds=["i-missing"])
    assert info.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert info.value.response["ResponseMetadata"]["RequestId"] == "req-e"
