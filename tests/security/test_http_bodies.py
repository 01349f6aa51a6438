"""Bodies are taken only after what the headers say was checked (issue "Contain untrusted
model code", part 3: "Authentication first, then the body")."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from rawhttp import (
    closed_within,
    connect,
    head_bytes,
    read_response,
    rss_kb,
    send_until_refused,
    signed_headers,
)

GB = 1024**3
MB = 1024**2


class RssWatch:
    """Samples the server's resident memory in the background; `peak` in kB."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_kb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_kb(self.pid))

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_unsigned_1gb_put_is_refused_unread_and_memory_stays_flat(make_server) -> None:
    # Finding: three unsigned 1 GB PUTs took the server from 166 MB to 6.3 GB RSS, because
    # bodies were read into memory before the signature was checked. AWS answers an
    # unsigned PutObject with 403 AccessDenied (S3 API reference, "Error responses").
    srv = make_server()
    # a bucket that exists: to an anonymous caller a missing one is NoSuchBucket instead
    srv.client("s3").create_bucket(Bucket="bucket")
    before = rss_kb(srv.proc.pid)
    with RssWatch(srv.proc.pid) as watch:
        for _ in range(3):
            sock = connect(srv.port)
            sock.sendall(head_bytes("PUT", "/bucket/big", {
                "Host": f"127.0.0.1:{srv.port}", "Content-Length": str(GB),
            }))
            status, _, body = read_response(sock)  # answered from the headers alone
            assert status == 403 and b"<Code>AccessDenied</Code>" in body
            sent = send_until_refused(sock, GB)
            assert sent < 64 * MB, f"the server kept reading: {sent} bytes went out"
            sock.close()
    print(f"3 unsigned 1 GB PUTs: server RSS {before // 1024} MB before, peak "
          f"{watch.peak // 1024} MB, {rss_kb(srv.proc.pid) // 1024} MB after")
    assert watch.peak - before < 100 * 1024, (before, watch.peak)


def test_authenticated_1gb_put_object_streams_to_disk(server, tmp_path: Path) -> None:
    # Finding: an authenticated upload was held whole in memory too. Now PutObject's body
    # streams to disk, hashed as it goes, and memory stays flat; the ETag is the MD5 of
    # the content (S3 API reference, PutObject).
    s3 = server.client("s3")
    s3.create_bucket(Bucket="big-uploads")
    path = tmp_path / "one-gb"
    with open(path, "wb") as fh:
        fh.truncate(GB)  # sparse: a gigabyte of zeros that costs no disk
    md5 = hashlib.md5()
    zeros = b"\0" * (8 * MB)
    for _ in range(GB // len(zeros)):
        md5.update(zeros)
    before = rss_kb(server.proc.pid)
    start = time.monotonic()
    with RssWatch(server.proc.pid) as watch, open(path, "rb") as body:
        put = s3.put_object(Bucket="big-uploads", Key="one-gb", Body=body)
    elapsed = time.monotonic() - start
    after = rss_kb(server.proc.pid)
    print(f"1 GB PutObject: {elapsed:.1f} s; server RSS {before // 1024} MB before, "
          f"peak {watch.peak // 1024} MB, {after // 1024} MB after")
    assert put["ETag"] == f'"{md5.hexdigest()}"'
    head = s3.head_object(Bucket="big-uploads", Key="one-gb")
    assert head["ContentLength"] == GB and head["ETag"] == put["ETag"]
    assert watch.peak - before < 100 * 1024, (before, watch.peak)

    # GetObject streams the object from its file as the client reads (it was read whole
    # into memory), and a ranged GET of it answers exactly its bytes.
    got, size = hashlib.md5(), 0
    before = rss_kb(server.proc.pid)
    with RssWatch(server.proc.pid) as watch:
        stream = s3.get_object(Bucket="big-uploads", Key="one-gb")["Body"]
        for chunk in stream.iter_chunks(8 * MB):
            got.update(chunk)
            size += len(chunk)
    print(f"1 GB GetObject: server RSS {before // 1024} MB before, peak "
          f"{watch.peak // 1024} MB")
    assert size == GB and got.hexdigest() == md5.hexdigest()
    assert watch.peak - before < 100 * 1024, (before, watch.peak)
    # a client that stops reading holds back the sending, not the server's memory
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "big-uploads",
                                                         "Key": "one-gb"})
    sock = connect(server.port)
    target = url.split(str(server.port), 1)[1]
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
    assert sock.recv(12) == b"HTTP/1.1 200"
    with RssWatch(server.proc.pid) as watch:
        time.sleep(2)
    sock.close()
    assert watch.peak - before < 100 * 1024, (before, watch.peak)
    assert server.client("s3").list_buckets()["Buckets"]  # and it serves others meanwhile
    part = s3.get_object(Bucket="big-uploads", Key="one-gb", Range=f"bytes={GB - 3 * MB}-")
    assert part["ContentLength"] == 3 * MB and part["Body"].read() == bytes(3 * MB)
    s3.delete_object(Bucket="big-uploads", Key="one-gb")


def test_payload_hash_mismatch_stores_nothing(server) -> None:
    # The signature covers x-amz-content-sha256, not the bytes: a body that does not hash
    # to it is refused with XAmzContentSHA256Mismatch (400) after streaming, and nothing
    # is stored (S3 API reference, "Error responses").
    s3 = server.client("s3")
    s3.create_bucket(Bucket="mismatch")
    key, secret = server.credentials()
    url = f"{server.url}/mismatch/tampered"
    signed = b"a" * (3 * MB)
    headers = signed_headers("s3", "PUT", url, {"Content-Length": str(len(signed))},
                             key, secret, signed)
    sock = connect(server.port)
    host = f"127.0.0.1:{server.port}"
    sock.sendall(head_bytes("PUT", "/mismatch/tampered", {**headers, "Host": host}))
    sock.sendall(b"b" * len(signed))
    status, _, body = read_response(sock)
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body
    assert s3.list_objects_v2(Bucket="mismatch").get("KeyCount") == 0


@pytest.mark.parametrize("expect_continue", [True, False])
def test_bad_signature_with_expect_continue_gets_403_first(server, expect_continue) -> None:
    # Finding: `Expect: 100-continue` invited unsigned uploads (100 Continue went out
    # before anything was checked). Now only a request whose signature verifies from its
    # headers gets 100 Continue; a bad one gets S3's 403 SignatureDoesNotMatch at once.
    key, secret = server.credentials()
    host = f"127.0.0.1:{server.port}"
    data = b"z" * MB
    base = {"Content-Length": str(len(data))}
    if expect_continue:
        base["Expect"] = "100-continue"
    good = signed_headers("s3", "PUT", f"http://{host}/continue-bucket/k", base, key, secret,
                          data)
    bad = signed_headers("s3", "PUT", f"http://{host}/continue-bucket/k", base, key,
                         "not-the-secret", data)
    server.client("s3").create_bucket(Bucket="continue-bucket")

    sock = connect(server.port)
    sock.sendall(head_bytes("PUT", "/continue-bucket/k", {**bad, "Host": host}))
    status, _, body = read_response(sock)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert closed_within(sock, 5) is not None  # and nothing of the body is read

    # the same request, signed right, is invited to send its body and stored
    sock = connect(server.port)
    sock.sendall(head_bytes("PUT", "/continue-bucket/k", {**good, "Host": host}))
    if expect_continue:
        status, _, _ = read_response(sock)
        assert status == 100
    sock.sendall(data)
    status, _, _ = read_response(sock)
    assert status == 200


@pytest.mark.parametrize(
    ("path", "extra", "declared", "status", "message"),
    [
        # SageMaker Runtime: "HTTP content length exceeded 6291456 bytes", 413
        # (AWS-FACTS.md; InvokeEndpoint API reference: Body is at most 6 MB)
        ("/endpoints/any-endpoint/invocations", {"Content-Type": "text/csv"}, 7 * MB, 413,
         b"HTTP content length exceeded 6291456 bytes"),
        # the JSON API: RequestEntityTooLargeException, 413 (AWS API reference, "Common
        # Errors")
        ("/", {"X-Amz-Target": "SageMaker.CreateModel",
               "Content-Type": "application/x-amz-json-1.1"}, 11 * MB, 413,
         b"RequestEntityTooLargeException"),
    ],
)
def test_body_over_service_limit_is_refused_from_headers(
    server, path, extra, declared, status, message
) -> None:
    # Finding: bodies up to 6 GiB were read before any limit applied. Now the limit is
    # checked on the declared length: the answer comes with only the headers sent.
    key, secret = server.credentials()
    host = f"127.0.0.1:{server.port}"
    service = "sagemaker"
    headers = signed_headers(service, "POST", f"http://{host}{path}",
                             {**extra, "Content-Length": str(declared)}, key, secret)
    sock = connect(server.port)
    start = time.monotonic()
    sock.sendall(head_bytes("POST", path, {**headers, "Host": host}))
    got, _, body = read_response(sock)
    assert (got, time.monotonic() - start < 5) == (status, True)
    assert message in body
    assert closed_within(sock, 5) is not None


def test_chunked_body_over_limit_is_cut_off(server) -> None:
    # Without a Content-Length the limit applies as the body arrives: an InvokeEndpoint
    # body sent chunked is refused once it passes 6 MB, not read to its end.
    key, secret = server.credentials()
    host = f"127.0.0.1:{server.port}"
    path = "/endpoints/any-endpoint/invocations"
    headers = signed_headers("sagemaker", "POST", f"http://{host}{path}",
                             {"Transfer-Encoding": "chunked"}, key, secret)
    sock = connect(server.port)
    sock.sendall(head_bytes("POST", path, {**headers, "Host": host}))
    block = b"x" * MB
    frame = b"%x\r\n%s\r\n" % (len(block), block)
    sent = 0
    try:
        for _ in range(64):
            sock.sendall(frame)
            sent += len(block)
    except OSError:
        pass
    assert sent < 32 * MB
    status, _, body = read_response(sock)
    assert status == 413 and b"HTTP content length exceeded 6291456 bytes" in body
