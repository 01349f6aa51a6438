"""GetFunction's Code.Location against a real server: a presigned URL that plain HTTP
clients (urllib3, curl) download the version's deployment package from, valid 10 minutes.

AWS facts pinned here:
- GetFunction returns "a link to download the deployment package that's valid for 10
  minutes" (Lambda API Reference, GetFunction,
  https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html, and botocore's
  lambda model); FunctionCodeLocation.Location is "A presigned URL that you can use to
  download the deployment package", RepositoryType "The service that's hosting the file"
  (https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCodeLocation.html), "S3" as
  GetFunction answers it; older SDK docs of the same shape: "The URL is valid for up to 10
  minutes" (https://www.rubydoc.info/gems/aws-sdk-lambda/1.15.0/Aws/Lambda/Types/FunctionCodeLocation).
- The URL is an S3 SigV4 presigned GET (X-Amz-Expires=600); past its expiry S3 answers 403
  AccessDenied "Request has expired", a signature that does not match 403
  SignatureDoesNotMatch (Amazon S3 API Reference, "Authenticating Requests: Using Query
  Parameters",
  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from cove.http.messages import PUBLIC_LISTENER, RequestContext
from cove.services.lambda_.code_location import CodeUrls
from tests.conftest import CoveServer
from tests.e2e.test_lambda_api import zipped

ACCOUNT = "000000000000"
FIRST = zipped({"app.py": "def handler(event, context):\n    return 'first'\n"})
SECOND = zipped({"app.py": "def handler(event, context):\n    return 'second'\n"})
_HTTP = urllib3.PoolManager(retries=False, timeout=30)


@pytest.fixture(scope="module")
def lam(server: CoveServer) -> Any:
    return server.client("lambda", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def role(server: CoveServer) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}  # fmt: skip
    return server.client("iam").create_role(
        RoleName="code-location", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]


def create(lam: Any, role: str, name: str, code: bytes = FIRST) -> None:
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": code},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


def s3_error(body: bytes) -> tuple[str, str]:
    root = ET.fromstring(body)
    return root.findtext("Code") or "", root.findtext("Message") or ""


def test_the_location_downloads_the_package(server: CoveServer, lam: Any, role: str) -> None:
    create(lam, role, "located")
    code = lam.get_function(FunctionName="located")["Code"]
    assert code["RepositoryType"] == "S3"
    url = urllib.parse.urlsplit(code["Location"])
    assert f"{url.scheme}://{url.netloc}" == server.url
    assert url.path.startswith(f"/awslambda-us-east-1-tasks/snapshots/{ACCOUNT}/located-")
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["X-Amz-Expires"] == "600" and query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    got = _HTTP.request("GET", code["Location"])
    assert got.status == 200 and got.data == FIRST
    assert got.headers["Content-Type"] == "application/zip"
    # the signature covers the method, as S3's does: the URL is for GET alone
    assert _HTTP.request("HEAD", code["Location"]).status == 403
    # the AWS CLI's URL, fetched with curl as the AWS docs' own example does
    location = server.aws(
        "lambda", "get-function", "--function-name", "located", "--query", "Code.Location",
        "--output", "text",
    ).stdout.strip()  # fmt: skip
    fetched = subprocess.run(["curl", "-sf", location], capture_output=True, timeout=30)
    assert fetched.returncode == 0 and fetched.stdout == FIRST


def test_each_version_locates_its_own_code(lam: Any, role: str) -> None:
    create(lam, role, "versioned-code")
    lam.publish_version(FunctionName="versioned-code")
    lam.update_function_code(FunctionName="versioned-code", ZipFile=SECOND)
    lam.get_waiter("function_updated_v2").wait(
        FunctionName="versioned-code", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    first = lam.get_function(FunctionName="versioned-code", Qualifier="1")["Code"]["Location"]
    latest = lam.get_function(FunctionName="versioned-code")["Code"]["Location"]
    assert _HTTP.request("GET", first).data == FIRST
    assert _HTTP.request("GET", latest).data == SECOND


def test_a_changed_or_expired_url_is_refused(server: CoveServer, lam: Any, role: str) -> None:
    create(lam, role, "guarded")
    location = lam.get_function(FunctionName="guarded")["Code"]["Location"]
    # the signature covers the path: another package's name is refused
    tampered = location.replace("/guarded-", "/other-", 1)
    refused = _HTTP.request("GET", tampered)
    assert refused.status == 403 and s3_error(refused.data)[0] == "SignatureDoesNotMatch"
    # URLs as the server signed them 9 and 11 minutes ago (its key is in its data dir)
    urls = CodeUrls.load(server.data_dir, "us-east-1", ACCOUNT, "")
    package = urllib.parse.urlsplit(location).path.rsplit("-", 1)[1]
    ctx = RequestContext(PUBLIC_LISTENER, "127.0.0.1", host=f"127.0.0.1:{server.port}")
    now = dt.datetime.now(dt.UTC)
    fresh = urls.url(ctx, "guarded", package, at=now - dt.timedelta(minutes=9))
    assert _HTTP.request("GET", fresh).status == 200
    stale = urls.url(ctx, "guarded", package, at=now - dt.timedelta(minutes=11))
    expired = _HTTP.request("GET", stale)
    assert expired.status == 403
    assert s3_error(expired.data) == ("AccessDenied", "Request has expired")


def test_the_url_ends_with_the_function(lam: Any, role: str) -> None:
    # a package of its own: one another function shares is kept for that one
    create(lam, role, "short-lived", zipped({"app.py": "def handler(e, c):\n    return 1\n"}))
    location = lam.get_function(FunctionName="short-lived")["Code"]["Location"]
    lam.delete_function(FunctionName="short-lived")
    gone = _HTTP.request("GET", location)
    assert gone.status == 404 and s3_error(gone.data)[0] == "NoSuchKey"


def test_the_signing_key_opens_nothing_else(server: CoveServer) -> None:
    """The URLs' key authenticates their GETs only: S3 itself does not know it."""
    key, secret = json.loads((server.data_dir / "lambda-code-key.json").read_text()).values()
    s3 = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key,
        aws_secret_access_key=secret,
    )  # fmt: skip
    with pytest.raises(ClientError) as info:
        s3.list_buckets()
    assert info.value.response["Error"]["Code"] == "InvalidAccessKeyId"
