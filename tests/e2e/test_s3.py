"""The embedded S3 API, driven by unmodified boto3 and the AWS CLI against a real server."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import re
import urllib.request
import uuid
import zlib
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from cove.config import Settings
from cove.storage.artifacts import ArtifactNotFound, ArtifactStore

MB = 1024 * 1024


def new_bucket(s3) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = excinfo.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(server):
    return server.client("s3")


def test_buckets(s3) -> None:
    name = new_bucket(s3)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    s3.create_bucket(Bucket=name)  # us-east-1 answers 200 to its owner, as AWS does

    eu = f"eu-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=eu, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=eu)["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket=eu, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_of(err) == ("BucketAlreadyOwnedByYou", 409)

    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="Not_Valid")
    assert error_of(err) == ("InvalidBucketName", 400)
    # what Cove does not implement is refused, never silently treated as something else
    with pytest.raises(ClientError) as err:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert error_of(err) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as err:
        s3.put_object_tagging(Bucket=name, Key="k", Tagging={"TagSet": []})
    assert error_of(err) == ("NotImplemented", 501)
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)

    s3.put_object(Bucket=eu, Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket=eu)
    assert error_of(err) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=eu, Key="k")
    s3.delete_bucket(Bucket=eu)
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=eu)
    assert error_of(err) == ("404", 404)
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket=eu)
    assert error_of(err) == ("NoSuchBucket", 404)
    assert err.value.response["Error"]["BucketName"] == eu


def test_put_get_head_delete(s3) -> None:
    bucket = new_bucket(s3)
    body = os.urandom(100_000)
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/obj.bin",
        Body=body,
        ContentType="application/x-test",
        Metadata={"owner": "cove"},
        CacheControl="no-cache",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ChecksumCRC32"]  # boto3 sent a CRC32 by default, and S3 echoes it

    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"owner": "cove"}
    assert got["CacheControl"] == "no-cache"
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]

    part = s3.get_object(Bucket=bucket, Key="dir/obj.bin", Range="bytes=10-19")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert part["Body"].read() == body[10:20]
    tail = s3.get_object(Bucket=bucket, Key="dir/obj.bin", Range="bytes=-5")
    assert tail["Body"].read() == body[-5:]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="dir/obj.bin", Range=f"bytes={len(body)}-")
    assert error_of(err) == ("InvalidRange", 416)

    head = s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert head["ContentLength"] == len(body) and head["ETag"] == put["ETag"]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="dir/obj.bin", IfNoneMatch=put["ETag"])
    assert error_of(err) == ("304", 304)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="dir/obj.bin", IfMatch='"0000"')
    assert error_of(err) == ("PreconditionFailed", 412)

    copied = s3.copy_object(
        Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": "dir/obj.bin"}
    )
    assert copied["CopyObjectResult"]["ETag"] == put["ETag"]
    assert s3.get_object(Bucket=bucket, Key="copy.bin")["Body"].read() == body

    s3.delete_object(Bucket=bucket, Key="dir/obj.bin")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    assert error_of(err) == ("NoSuchKey", 404)
    assert err.value.response["Error"]["Key"] == "dir/obj.bin"
    assert err.value.response["Error"]["Message"] == "The specified key does not exist."
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert error_of(err) == ("404", 404)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="no-such-bucket-cove", Key="k")
    assert error_of(err) == ("NoSuchBucket", 404)

    deleted = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "copy.bin"}, {"Key": "never-existed"}]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["copy.bin", "never-existed"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_list_objects(s3) -> None:
    bucket = new_bucket(s3)
    keys = ["a/1.txt", "a/2.txt", "a/sub/3.txt", "b.txt", "c/4.txt", "with space+plus", "ünï"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    everything = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in everything["Contents"]] == sorted(keys, key=str.encode)
    assert everything["IsTruncated"] is False

    tree = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in tree["CommonPrefixes"]] == ["a/", "c/"]
    assert [o["Key"] for o in tree["Contents"]] == ["b.txt", "with space+plus", "ünï"]

    sub = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["a/1.txt", "a/2.txt"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["a/sub/"]

    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    assert first["IsTruncated"] and first["KeyCount"] == 2
    second = s3.list_objects_v2(
        Bucket=bucket, MaxKeys=2, ContinuationToken=first["NextContinuationToken"]
    )
    assert [o["Key"] for o in second["Contents"]] == ["a/sub/3.txt", "b.txt"]

    after = s3.list_objects_v2(Bucket=bucket, StartAfter="b.txt")
    assert [o["Key"] for o in after["Contents"]] == ["c/4.txt", "with space+plus", "ünï"]

    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}
    )
    seen = []
    for page in pages:
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert seen == ["a/", "b.txt", "c/", "with space+plus", "ünï"]

    v1 = s3.get_paginator("list_objects").paginate(
        Bucket=bucket, Prefix="a/", PaginationConfig={"PageSize": 1}
    )
    assert [o["Key"] for page in v1 for o in page["Contents"]] == ["a/1.txt", "a/2.txt",
                                                                    "a/sub/3.txt"]


def test_upload_and_download_file_multipart(s3, tmp_path: Path) -> None:
    bucket = new_bucket(s3)
    src = tmp_path / "big.bin"
    data = os.urandom(20 * MB)
    src.write_bytes(data)
    s3.upload_file(str(src), bucket, "big.bin")  # 8 MB parts, CRC32 per part

    head = s3.head_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data)
    md5s = b"".join(hashlib.md5(data[i : i + 8 * MB]).digest() for i in range(0, len(data), 8 * MB))
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert head["ChecksumCRC32"].endswith("-3") and head["ChecksumType"] == "COMPOSITE"

    dest = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(dest))  # ranged GETs in parallel
    assert dest.read_bytes() == data
    part2 = s3.get_object(Bucket=bucket, Key="big.bin", PartNumber=2)
    assert part2["PartsCount"] == 3 and part2["Body"].read() == data[8 * MB : 16 * MB]


def test_multipart_errors(s3) -> None:
    bucket = new_bucket(s3)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"small")
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=b"tail")
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, 5), (2, 4)]
    parts = [
        {"PartNumber": 1, "ETag": e1["ETag"]},
        {"PartNumber": 2, "ETag": e2["ETag"]},
    ]
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts}
        )
    assert error_of(err) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as err:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="mp",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]},
        )
    assert error_of(err) == ("InvalidPart", 400)
    # a single small part is a valid (last) part
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": parts[:1]}
    )
    assert done["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"small"

    upload = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=upload)
    with pytest.raises(ClientError) as err:
        s3.list_parts(Bucket=bucket, Key="gone", UploadId=upload)
    assert error_of(err) == ("NoSuchUpload", 404)


def test_checksums_and_digests(s3) -> None:
    bucket = new_bucket(s3)
    for algorithm in ("SHA256", "SHA1", "CRC32"):
        put = s3.put_object(Bucket=bucket, Key=algorithm, Body=b"data", ChecksumAlgorithm=algorithm)
        got = s3.get_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
        assert got[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]
        assert got["Body"].read() == b"data"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert error_of(err) == ("BadDigest", 400)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert error_of(err) == ("BadDigest", 400)
    assert s3.list_objects_v2(Bucket=bucket, Prefix="bad")["KeyCount"] == 0


def trailer_checksums(s3) -> None:
    """Make boto3 send what it sends over HTTPS: an aws-chunked body with the checksum in
    a trailer and `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (over plain HTTP it would sign the
    payload instead)."""

    def to_trailer(params, **_) -> None:
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"

    s3.meta.events.register("before-call.s3.PutObject", to_trailer)
    s3.meta.events.register("before-call.s3.UploadPart", to_trailer)


def test_aws_chunked_upload_with_trailer(server, tmp_path: Path) -> None:
    s3 = server.client("s3")
    trailer_checksums(s3)
    sent: list[dict] = []
    s3.meta.events.register(
        "before-send.s3.*", lambda request, **_: sent.append(dict(request.headers))
    )
    bucket = new_bucket(s3)
    body = os.urandom(3 * MB)
    put = s3.put_object(Bucket=bucket, Key="chunked", Body=body)
    headers = sent[-1]
    assert headers["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert headers["Content-Encoding"] == b"aws-chunked"
    crc = zlib.crc32(body).to_bytes(4, "big")
    assert put["ChecksumCRC32"] == base64.b64encode(crc).decode()
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == body

    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(17 * MB))
    s3.upload_file(str(src), bucket, "big-chunked")
    s3.download_file(bucket, "big-chunked", str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == src.read_bytes()


def test_aws_chunked_trailer_mismatch_is_bad_digest(server) -> None:
    s3 = server.client("s3")
    trailer_checksums(s3)
    bucket = new_bucket(s3)
    data = b"the bytes the client checksummed"

    class ChecksumOfOtherBytes(Crc32Checksum):
        def update(self, chunk: bytes) -> None:
            super().update(chunk.replace(b"client", b"server"))

    def tamper(request, **_) -> None:
        # the trailer carries the CRC32 of different bytes than the body
        request.body = AwsChunkedWrapper(
            io.BytesIO(data), ChecksumOfOtherBytes, "x-amz-checksum-crc32"
        )

    s3.meta.events.register("before-send.s3.PutObject", tamper)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="tampered", Body=data)
    assert error_of(err) == ("BadDigest", 400)


def test_tampered_signed_body_is_rejected(server) -> None:
    s3 = server.client("s3")
    bucket = new_bucket(s3)

    def tamper(request, **_) -> None:
        # signed (x-amz-content-sha256 = sha256 of the body), then altered on the way
        original = request.body.read() if hasattr(request.body, "read") else request.body
        request.body = b"evil" + original[4:]

    s3.meta.events.register("before-send.s3.PutObject", tamper)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="tampered", Body=b"good data")
    assert error_of(err) == ("XAmzContentSHA256Mismatch", 400)
    assert "does not match what was computed" in err.value.response["Error"]["Message"]


def s3_client(server, key: str, secret: str, **cfg) -> object:
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, **cfg),
    )


def test_authentication_errors(server) -> None:
    key, secret = server.credentials()
    s3 = server.client("s3")
    bucket = new_bucket(s3)
    wrong_secret = s3_client(server, key, "x" * 40)
    with pytest.raises(ClientError) as err:
        wrong_secret.list_objects_v2(Bucket=bucket)
    assert error_of(err) == ("SignatureDoesNotMatch", 403)
    unknown = s3_client(server, "AKIAUNKNOWNUNKNOWN00", secret)
    with pytest.raises(ClientError) as err:
        unknown.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert error_of(err) == ("InvalidAccessKeyId", 403)
    unsigned = s3_client(server, key, secret, signature_version=UNSIGNED)
    with pytest.raises(ClientError) as err:
        unsigned.get_object(Bucket=bucket, Key="k")
    assert error_of(err) == ("AccessDenied", 403)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_presigned_get(server) -> None:
    key, secret = server.credentials()
    s3 = s3_client(server, key, secret, signature_version="s3v4")  # SigV4 query auth
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"})
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"presigned"


def test_aws_cli_cp_and_ls(server, tmp_path: Path) -> None:
    s3 = server.client("s3")
    bucket = new_bucket(s3)
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_text("hello from the cli\n")
    big.write_bytes(os.urandom(10 * MB))  # above the CLI's 8 MB multipart threshold
    server.aws("s3", "cp", str(small), f"s3://{bucket}/docs/small.txt")
    server.aws("s3", "cp", str(big), f"s3://{bucket}/data/big.bin")

    listing = server.aws("s3", "ls", f"s3://{bucket}/").stdout
    assert "PRE docs/" in listing and "PRE data/" in listing
    recursive = server.aws("s3", "ls", "--recursive", f"s3://{bucket}/").stdout
    assert "docs/small.txt" in recursive and str(10 * MB) in recursive
    assert bucket in server.aws("s3", "ls").stdout

    server.aws("s3", "cp", f"s3://{bucket}/data/big.bin", str(tmp_path / "big.out"))
    assert (tmp_path / "big.out").read_bytes() == big.read_bytes()
    server.aws("s3", "cp", f"s3://{bucket}/docs/small.txt", str(tmp_path / "small.out"))
    assert (tmp_path / "small.out").read_text() == "hello from the cli\n"

    missing = server.aws("s3", "cp", f"s3://{bucket}/nope", str(tmp_path / "x"), check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    api = server.aws("s3api", "head-object", "--bucket", bucket, "--key", "docs/small.txt")
    assert '"ContentLength": 19' in api.stdout

    # server-side copy of a multipart-sized object goes through UploadPartCopy
    server.aws("s3", "cp", f"s3://{bucket}/data/big.bin", f"s3://{bucket}/copy/big.bin")
    copied = s3.get_object(Bucket=bucket, Key="copy/big.bin")["Body"].read()
    assert copied == big.read_bytes()
    server.aws("s3", "rb", "--force", f"s3://{bucket}")
    assert bucket not in server.aws("s3", "ls").stdout


def test_artifact_store_against_external_endpoint(server, tmp_path, monkeypatch) -> None:
    """With COVE_S3_ENDPOINT_URL, artifacts go through boto3 to that S3-compatible service
    (here: a Cove server standing in for one)."""
    key, secret = server.credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    bucket = new_bucket(server.client("s3"))
    artifacts = ArtifactStore(Settings(data_dir=tmp_path, s3_endpoint_url=server.url), None)
    artifacts.write_bytes(f"s3://{bucket}/m/model.tar.gz", b"remote bytes")
    assert artifacts.read_bytes(f"s3://{bucket}/m/model.tar.gz") == b"remote bytes"
    assert artifacts.list(f"s3://{bucket}/m/") == [f"s3://{bucket}/m/model.tar.gz"]
    assert artifacts.exists(f"s3://{bucket}/m/model.tar.gz")
    artifacts.download(f"s3://{bucket}/m/model.tar.gz", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"remote bytes"
    with pytest.raises(ArtifactNotFound, match="does not exist"):
        artifacts.read_bytes(f"s3://{bucket}/m/missing")


def test_objects_survive_restart(make_server, tmp_path: Path) -> None:
    first = make_server()
    s3 = first.client("s3")
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="small", Body=b"kept", Metadata={"a": "b"})
    data = os.urandom(12 * MB)
    (tmp_path / "big").write_bytes(data)
    s3.upload_file(str(tmp_path / "big"), bucket, "big")
    pending = s3.create_multipart_upload(Bucket=bucket, Key="pending")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=1, Body=b"p1")
    first.stop()

    second = make_server(data_dir=first.data_dir)
    s3 = second.client("s3")
    got = s3.get_object(Bucket=bucket, Key="small")
    assert got["Body"].read() == b"kept" and got["Metadata"] == {"a": "b"}
    s3.download_file(bucket, "big", str(tmp_path / "big.out"))
    assert (tmp_path / "big.out").read_bytes() == data
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["big", "small"]
    parts = s3.list_parts(Bucket=bucket, Key="pending", UploadId=pending)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]


def test_virtual_hosted_style_request(server) -> None:
    """`bucket.localhost` hosts address the bucket in the Host header (signed by botocore;
    sent to 127.0.0.1 since *.localhost may not resolve on this machine)."""
    s3 = server.client("s3")
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="dir/v.txt", Body=b"virtual")
    host = f"{bucket}.localhost:{server.port}"
    request = AWSRequest(method="GET", url=f"http://{host}/dir/v.txt")
    request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    S3SigV4Auth(Credentials(*server.credentials()), "s3", "us-east-1").add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/dir/v.txt", headers={**dict(request.headers), "Host": host})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"virtual")
    conn.close()


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_presigned_get_with_boto3_default_signature_v2(server) -> None:
    s3 = server.client("s3")
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="dir/shared file.txt", Body=b"presigned v2")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "dir/shared file.txt"}
    )
    assert "AWSAccessKeyId=" in url and "Signature=" in url  # boto3's default for S3
    assert fetch(url) == (200, b"presigned v2")

    tampered = url.replace("dir/shared", "dir/other")
    status, body = fetch(tampered)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body

    expired = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "dir/shared file.txt"}, ExpiresIn=-10
    )
    status, body = fetch(expired)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_presigned_urls_with_temporary_credentials(server) -> None:
    """A URL presigned with a role session's keys carries its token as
    x-amz-security-token: signed as an x-amz- header in signature version 2, as a query
    parameter in SigV4 (S3 API Reference, "Authenticating Requests: Using Query
    Parameters", https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html;
    "Using temporary security credentials" for version 2,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html). A token
    that is not the session's is refused with S3's InvalidToken."""
    admin = server.client("s3")
    bucket = new_bucket(admin)
    admin.put_object(Bucket=bucket, Key="report.csv", Body=b"a,b\n")
    iam = server.client("iam")
    iam.create_user(UserName="presigner")
    iam.attach_user_policy(
        UserName="presigner", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    user = iam.create_access_key(UserName="presigner")["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": "sts:AssumeRole",
    }]}  # fmt: skip
    role = iam.create_role(RoleName="presign-reader", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(
        RoleName="presign-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    sts = boto3.client("sts", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id=user["AccessKeyId"],
                       aws_secret_access_key=user["SecretAccessKey"])  # fmt: skip
    creds = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="share")["Credentials"]
    for version, marker in (("s3", "AWSAccessKeyId="), ("s3v4", "X-Amz-Signature=")):
        session = boto3.client(
            "s3", endpoint_url=server.url, region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            config=Config(signature_version=version),
        )  # fmt: skip
        url = session.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "report.csv"}
        )
        assert marker in url and "security-token=" in url.lower(), url
        assert fetch(url) == (200, b"a,b\n"), version
        forged = re.sub("(?i)(security-token=)", r"\1x", url, count=1)
        assert forged != url
        status, body = fetch(forged)
        assert status in (400, 403) and b"<Code>InvalidToken</Code>" in body, (version, body)


def test_aws_cli_presign(server) -> None:
    s3 = server.client("s3")
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="cli.txt", Body=b"from the cli")
    url = server.aws("s3", "presign", f"s3://{bucket}/cli.txt").stdout.strip()
    assert fetch(url) == (200, b"from the cli")
