"""The endpoint service catalog: names, types, DNS forms and signing names.

DNS forms (AWS PrivateLink Guide; e.g. Neptune Analytics "Accessing interface
endpoints": `vpce-1a2b3c4d-5e6f.neptune-graph.us-east-1.vpce.amazonaws.com` and zonal
`vpce-1a2b3c4d-5e6f-us-east-1a.neptune-graph.us-east-1.vpce.amazonaws.com`); S3's are
wildcards addressed as `bucket.vpce-abc123-abcdefgh.s3.us-east-1.vpce.amazonaws.com`
(boto3 guide, "AWS PrivateLink for Amazon S3"); private DNS answers for the services'
default hostnames, e.g. `kinesis.us-east-1.amazonaws.com` (EC2 API reference,
CreateVpcEndpoint PrivateDnsEnabled)."""

from __future__ import annotations

from cove.network.endpoint_services import EXECUTE_API, LAMBDA, Catalog
from cove.network.resources import EndpointType


def test_the_served_services_and_their_names() -> None:
    catalog = Catalog("us-east-1")
    assert [s.service_name for s in catalog] == [
        "com.amazonaws.us-east-1.s3",
        "com.amazonaws.us-east-1.sagemaker.api",
        "com.amazonaws.us-east-1.sagemaker.runtime",
        "com.amazonaws.us-east-1.sts",
    ]
    runtime = catalog.get("com.amazonaws.us-east-1.sagemaker.runtime")
    assert runtime is not None and runtime.types == (EndpointType.INTERFACE,)
    assert runtime.signing_name == "sagemaker"
    assert runtime.regional_dns_name("vpce-0abc", "1a2b3c4d") == (
        "vpce-0abc-1a2b3c4d.runtime.sagemaker.us-east-1.vpce.amazonaws.com"
    )
    assert runtime.zonal_dns_name("vpce-0abc", "1a2b3c4d", "us-east-1b") == (
        "vpce-0abc-1a2b3c4d-us-east-1b.runtime.sagemaker.us-east-1.vpce.amazonaws.com"
    )
    assert runtime.private_dns_names == ("runtime.sagemaker.us-east-1.amazonaws.com",)
    api = catalog.get("com.amazonaws.us-east-1.sagemaker.api")
    assert api is not None and api.private_dns_names == ("api.sagemaker.us-east-1.amazonaws.com",)
    assert api.base_dns_name == "api.sagemaker.us-east-1.vpce.amazonaws.com"
    sts = catalog.get("com.amazonaws.us-east-1.sts")
    assert sts is not None and (sts.signing_name, sts.private_dns_names) == (
        "sts", ("sts.us-east-1.amazonaws.com",),
    )  # fmt: skip
    s3 = catalog.get("com.amazonaws.us-east-1.s3")
    assert s3 is not None and s3.types == (EndpointType.INTERFACE, EndpointType.GATEWAY)
    assert s3.regional_dns_name("vpce-0abc", "abcdefgh") == (
        "*.vpce-0abc-abcdefgh.s3.us-east-1.vpce.amazonaws.com"
    )
    assert s3.zonal_dns_name("vpce-0abc", "abcdefgh", "us-east-1a") == (
        "*.vpce-0abc-abcdefgh-us-east-1a.s3.us-east-1.vpce.amazonaws.com"
    )
    assert s3.private_dns_names == ("s3.us-east-1.amazonaws.com", "*.s3.us-east-1.amazonaws.com")
    prefix_list = s3.prefix_list()
    assert prefix_list is not None and prefix_list.prefix_list_id == "pl-63a5400a"
    assert runtime.prefix_list() is None


def test_other_regions_and_the_seam_for_later_services() -> None:
    catalog = Catalog("eu-west-1", extra=(LAMBDA, EXECUTE_API))
    names = [s.service_name for s in catalog]
    assert "com.amazonaws.eu-west-1.lambda" in names
    assert "com.amazonaws.eu-west-1.execute-api" in names
    s3 = catalog.get("com.amazonaws.eu-west-1.s3")
    assert s3 is not None and s3.private_dns_names[0] == "s3.eu-west-1.amazonaws.com"
    prefix_list = s3.prefix_list()
    assert prefix_list is not None and prefix_list.prefix_list_id.startswith("pl-")
    again = Catalog("eu-west-1").get(s3.service_name)
    assert again is not None and again.prefix_list() == prefix_list  # stable across restarts
    assert Catalog("us-east-1").get("com.amazonaws.us-east-1.lambda") is None  # not served yet
