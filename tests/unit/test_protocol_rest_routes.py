"""Routing by the models' requestUri templates: the rules each pinned by a case.

The template grammar (labels, greedy `{Label+}` labels, `?key` and `?key=value` query
literals) is Smithy's http trait, https://smithy.io/2.0/spec/http-bindings.html; the
encoding is botocore's `_render_uri_template` (labels percent-encoded, greedy ones with
`/` left as it is) and `prepare_request_dict` (the template's literals, then `&` and the
members' query).

Every operation of the four rest services is also routed from botocore's own request in
test_protocol_rest.py; these are the cases examples do not reach.
"""

from __future__ import annotations

import functools

import botocore.session
import pytest
from botocore.model import ServiceModel

from cove.protocol.rest_routes import RestRouter, parse_query


@functools.cache
def router(service: str) -> RestRouter:
    return RestRouter(botocore.session.get_session().get_service_model(service))


def route(service: str, method: str, target: str, headers: dict[str, str] | None = None):
    path, _, query = target.partition("?")
    return router(service).match(method, path, parse_query(query), headers)


def name_of(service: str, method: str, target: str, headers: dict[str, str] | None = None):
    found = route(service, method, target, headers)
    return found and found.operation.name


@pytest.mark.parametrize(
    ("method", "target", "expected"),
    [
        # a literal query key beats the bare template (S3's sub-resources)
        ("GET", "/bucket", "ListObjects"),
        ("GET", "/bucket?acl", "GetBucketAcl"),
        ("GET", "/bucket?acl=", "GetBucketAcl"),
        ("GET", "/bucket?uploads&prefix=a", "ListMultipartUploads"),
        ("PUT", "/bucket", "CreateBucket"),
        ("PUT", "/bucket?versioning", "PutBucketVersioning"),
        # a literal with a value must have that value
        ("GET", "/bucket?list-type=2", "ListObjectsV2"),
        ("GET", "/bucket?list-type=1", "ListObjects"),
        ("POST", "/bucket/key?select&select-type=2", "SelectObjectContent"),
        ("POST", "/bucket/key?select", "CompleteMultipartUpload"),
        # required query members tell apart operations sharing a template
        ("GET", "/bucket/key", "GetObject"),
        ("GET", "/bucket/key?uploadId=u1", "ListParts"),
        ("DELETE", "/bucket/key", "DeleteObject"),
        ("DELETE", "/bucket/key?uploadId=u1", "AbortMultipartUpload"),
        ("PUT", "/bucket/key?partNumber=1&uploadId=u1", "UploadPart"),
        ("GET", "/bucket?analytics", "ListBucketAnalyticsConfigurations"),
        ("GET", "/bucket?analytics&id=a1", "GetBucketAnalyticsConfiguration"),
        ("POST", "/WriteGetObjectResponse", "WriteGetObjectResponse"),
        ("GET", "/", "ListBuckets"),
        # the x-id the Smithy-generated SDKs add names the operation where a path is shared
        ("GET", "/?x-id=ListDirectoryBuckets", "ListDirectoryBuckets"),
        ("GET", "/?x-id=Unknown", "ListBuckets"),
        ("GET", "/bucket/key?x-id=GetObject", "GetObject"),
        # a trailing slash is the bucket, as S3 takes `/bucket/`
        ("GET", "/bucket/", "ListObjects"),
    ],
)
def test_s3_routes(method: str, target: str, expected: str) -> None:
    assert name_of("s3", method, target) == expected


def test_required_headers_tell_copies_from_uploads() -> None:
    copy = {"x-amz-copy-source": "/src/key"}
    assert name_of("s3", "PUT", "/bucket/key") == "PutObject"
    assert name_of("s3", "PUT", "/bucket/key", copy) == "CopyObject"
    assert name_of("s3", "PUT", "/bucket/key?partNumber=1&uploadId=u") == "UploadPart"
    assert name_of("s3", "PUT", "/bucket/key?partNumber=1&uploadId=u", copy) == "UploadPartCopy"


def test_greedy_label_keeps_slashes_and_decodes() -> None:
    found = route("s3", "GET", "/my-bucket/a/b%20c/%C3%BC%2Bd.txt")
    assert found is not None
    assert found.operation.name == "GetObject"
    assert found.labels == {"Bucket": "my-bucket", "Key": "a/b c/ü+d.txt"}
    found = route("s3", "PUT", "/my-bucket/dir/")
    assert found is not None
    assert found.labels["Key"] == "dir/"


def test_labels_are_percent_decoded() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    found = route("lambda", "GET", "/2015-03-31/functions/" + arn.replace(":", "%3A"))
    assert found is not None
    assert found.operation.name == "GetFunction"
    assert found.labels == {"FunctionName": arn}


@pytest.mark.parametrize(
    ("service", "method", "target", "expected"),
    [
        ("lambda", "POST", "/2015-03-31/functions/f/invocations", "Invoke"),
        ("lambda", "GET", "/2015-03-31/functions", "ListFunctions"),
        ("lambda", "GET", "/2015-03-31/functions/", "ListFunctions"),
        ("lambda", "GET", "/2015-03-31/functions/f/versions", "ListVersionsByFunction"),
        ("lambda", "POST", "/2015-03-31/functions/f/versions", "PublishVersion"),
        ("lambda", "GET", "/2018-10-31/layers?find=LayerVersion&Arn=a", "GetLayerVersionByArn"),
        ("lambda", "GET", "/2018-10-31/layers", "ListLayers"),
        ("lambda", "GET", "/2019-09-30/functions/f/provisioned-concurrency?List=ALL",
         "ListProvisionedConcurrencyConfigs"),
        ("lambda", "GET", "/2019-09-30/functions/f/provisioned-concurrency?Qualifier=1",
         "GetProvisionedConcurrencyConfig"),
        ("apigateway", "POST", "/restapis?mode=import", "ImportRestApi"),
        ("apigateway", "POST", "/restapis", "CreateRestApi"),
        ("apigateway", "GET", "/restapis/r1/resources/x1/methods/GET", "GetMethod"),
        ("sagemaker-runtime", "POST", "/endpoints/e1/invocations", "InvokeEndpoint"),
        ("sagemaker-runtime", "POST", "/endpoints/e1/async-invocations", "InvokeEndpointAsync"),
    ],
)
def test_rest_json_routes(service: str, method: str, target: str, expected: str) -> None:
    assert name_of(service, method, target) == expected


@pytest.mark.parametrize(
    ("service", "method", "target"),
    [
        ("lambda", "GET", "/nowhere"),
        ("lambda", "PATCH", "/2015-03-31/functions/f"),  # a known path, not with this method
        ("lambda", "GET", "/2015-03-31/functions/f/unknown"),
        ("sagemaker-runtime", "POST", "/endpoints//invocations"),  # a label is never empty
        ("sagemaker-runtime", "GET", "/endpoints/e1/invocations"),
        ("apigateway", "GET", "/restapis/r1/nothing"),
    ],
)
def test_unknown_paths_route_nowhere(service: str, method: str, target: str) -> None:
    assert route(service, method, target) is None


def test_parse_query() -> None:
    assert parse_query("") == {}
    assert parse_query("uploads") == {"uploads": [""]}
    assert parse_query("a=1&a=2&b=x%20y&c=%2B") == {"a": ["1", "2"], "b": ["x y"], "c": ["+"]}


def test_literal_segment_beats_label_in_its_place() -> None:
    # None of the four services has this conflict today; a model of two operations does.
    model = ServiceModel(
        {
            "metadata": {"protocol": "rest-json", "apiVersion": "2020-01-01",
                         "endpointPrefix": "things", "serviceId": "Things"},
            "operations": {
                "GetThing": {"name": "GetThing", "input": {"shape": "GetThingRequest"},
                             "http": {"method": "GET", "requestUri": "/things/{Id}"}},
                "GetSpecialThing": {"name": "GetSpecialThing",
                                    "http": {"method": "GET", "requestUri": "/things/special"}},
            },
            "shapes": {
                "GetThingRequest": {
                    "type": "structure",
                    "required": ["Id"],
                    "members": {"Id": {"shape": "Id", "location": "uri", "locationName": "Id"}},
                },
                "Id": {"type": "string"},
            },
        },
        "things",
    )
    things = RestRouter(model)
    special = things.match("GET", "/things/special", {})
    other = things.match("GET", "/things/other", {})
    assert special is not None and special.operation.name == "GetSpecialThing"
    assert other is not None and other.operation.name == "GetThing"
    assert other.labels == {"Id": "other"}


def test_x_id_literals_in_a_template_are_not_required() -> None:
    # Models generated for the Smithy SDKs write `?x-id=<Operation>` into S3's templates;
    # clients built from botocore's model never send it, and must still be routed.
    def op(name: str) -> dict:
        return {"name": name, "http": {"method": "GET", "requestUri": f"/o/{{Key+}}?x-id={name}"},
                "input": {"shape": "Input"}}

    model = ServiceModel(
        {
            "metadata": {"protocol": "rest-xml", "apiVersion": "2006-03-01",
                         "endpointPrefix": "o", "serviceId": "O"},
            "operations": {name: op(name) for name in ("GetObject", "GetObjectTorrent")},
            "shapes": {
                "Input": {"type": "structure", "required": ["Key"],
                          "members": {"Key": {"shape": "Key", "location": "uri",
                                              "locationName": "Key"}}},
                "Key": {"type": "string"},
            },
        },
        "o",
    )
    objects = RestRouter(model)
    plain = objects.match("GET", "/o/a/b", {})
    torrent = objects.match("GET", "/o/a/b", {"x-id": ["GetObjectTorrent"]})
    assert plain is not None and plain.operation.name == "GetObject"
    assert torrent is not None and torrent.operation.name == "GetObjectTorrent"
