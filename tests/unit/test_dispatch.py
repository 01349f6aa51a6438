"""Dispatch is a lookup: the credential scope's service picks the candidates, then the
one that claims the request. The services are the server's own, built without the rest
of a server (routing reads nothing else)."""

from __future__ import annotations

import pytest

from cove.auth.credentials import CredentialStore
from cove.config import Settings
from cove.gateway.dispatch import Gateway
from cove.gateway.json_service import JsonRpcService
from cove.http.messages import PUBLIC_LISTENER, Request, RequestContext
from cove.services.metrics import MetricsService
from cove.services.s3.service import S3Service
from cove.services.sagemaker_runtime.service import RuntimeService


def signed_for(service: str) -> dict[str, str]:
    return {
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261201/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
        )
    }


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    services = [
        RuntimeService(Settings(), None, None),  # type: ignore[arg-type]
        JsonRpcService("sagemaker", {}),
        MetricsService(None),  # type: ignore[arg-type]
        S3Service(None),  # type: ignore[arg-type]
    ]
    return Gateway(CredentialStore("000000000000"), services)


def route(
    gateway: Gateway, method: str, path: str, headers: dict[str, str], query: str = ""
) -> str | None:
    req = Request(method, path, query, headers, b"", RequestContext(PUBLIC_LISTENER, "127.0.0.1"))
    service = gateway.route(req)
    return type(service).__name__ if service is not None else None


@pytest.mark.parametrize(
    "method, path, headers, query, expected",
    [
        # boto3 signs sagemaker-runtime with the signing name "sagemaker"
        ("POST", "/endpoints/ep/invocations", signed_for("sagemaker"), "", "RuntimeService"),
        (
            "POST",
            "/",
            {**signed_for("sagemaker"), "x-amz-target": "SageMaker.ListModels"},
            "",
            "JsonRpcService",
        ),
        # the same path under S3's scope is an object key in a bucket named "endpoints"
        ("POST", "/endpoints/ep/invocations", signed_for("s3"), "", "S3Service"),
        ("GET", "/metrics", signed_for("s3"), "", "S3Service"),  # a bucket named metrics
        ("GET", "/metrics", {}, "", "MetricsService"),  # an unsigned scrape
        ("GET", "/bucket/key", {}, "", "S3Service"),  # anonymous: S3 answers AccessDenied
        # presigned: the scope is in the query string (SigV4) or implied (SigV2, S3 only)
        (
            "GET",
            "/bucket/key",
            {},
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20261201%2Fus-east-1%2Fs3"
            "%2Faws4_request&X-Amz-Signature=00",
            "S3Service",
        ),
        ("GET", "/bucket/key", {}, "AWSAccessKeyId=AK&Expires=1&Signature=x", "S3Service"),
        # unsigned calls reach the service whose error shape they get
        ("POST", "/endpoints/ep/invocations", {}, "", "RuntimeService"),
        ("POST", "/", {"x-amz-target": "SageMaker.ListModels"}, "", "JsonRpcService"),
        # a scope Cove serves nothing under: no service, whatever the path
        ("POST", "/", {**signed_for("sts"), "x-amz-target": "SageMaker.ListModels"}, "", None),
        ("POST", "/", signed_for("sagemaker"), "", None),  # SageMaker without an operation
    ],
)
def test_route(gateway, method, path, headers, query, expected) -> None:
    assert route(gateway, method, path, headers, query) == expected


def test_capabilities_are_declared(gateway) -> None:
    runtime, control, metrics, s3 = gateway.services
    assert runtime.replies_by_callback and not control.replies_by_callback
    assert metrics.anonymous_from_loopback and not s3.anonymous_from_loopback
    assert control.signing_names == ("sagemaker", "")
