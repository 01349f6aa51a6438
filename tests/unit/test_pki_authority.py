"""Cove's CA: real TLS handshakes (Python's ssl, curl) against leaves it signs, the files
it keeps, and concurrent first starts."""

from __future__ import annotations

import shutil
import socket
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cove.pki.authority import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    AuthorityError,
    CertificateAuthority,
)

SRC = Path(__file__).resolve().parents[2] / "src"


@contextmanager
def tls_server(context: ssl.SSLContext) -> Iterator[int]:
    """A loopback TLS server that answers every connection with an HTTP 200 `ok`."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    tls.recv(4096)
                    tls.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )
            except (OSError, ssl.SSLError):
                pass  # the client refused our certificate: that is what some tests want
            finally:
                raw.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        listener.close()
        thread.join(timeout=10)


def client_context(ca: CertificateAuthority) -> ssl.SSLContext:
    # Default verification plus X.509 strict mode (Python 3.13's default), so that a
    # certificate missing what strict checking wants (key identifiers, critical basic
    # constraints) fails here already.
    context = ssl.create_default_context(cafile=str(ca.ca_path))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


def handshake(ca: CertificateAuthority, port: int, server_hostname: str) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        client_context(ca).wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        tls.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        return tls.recv(4096)


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.load_or_create(tmp_path / "ca")


def test_first_start_writes_the_ca_files_with_private_key_modes(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "ca"
    ca = CertificateAuthority.load_or_create(directory)
    assert ca.ca_path == directory / CA_CERT_FILE
    assert stat.S_IMODE((directory / CA_KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(ca.ca_path.stat().st_mode) == 0o600  # the data dir is private
    # the bundle clients get holds the certificate and never the key
    text = ca.ca_path.read_text()
    assert "BEGIN CERTIFICATE" in text and "PRIVATE KEY" not in text
    # no temporary files left behind
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith(".ca.lock")) == [
        CA_KEY_FILE,
        CA_CERT_FILE,
    ]


def test_the_ca_certificate_is_a_ca_that_signs_only_leaves(ca: CertificateAuthority) -> None:
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature


def test_reload_from_disk_gives_the_same_ca(tmp_path: Path) -> None:
    first = CertificateAuthority.load_or_create(tmp_path)
    again = CertificateAuthority.load_or_create(tmp_path)
    assert again.certificate == first.certificate
    # a leaf from the reloaded CA verifies against the first one's bundle
    with tls_server(again.server_context(["api.example.test"])) as port:
        assert handshake(first, port, "api.example.test").endswith(b"ok")


def test_concurrent_first_starts_agree_on_one_ca(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from cove.pki.authority import "
        "CertificateAuthority as C; print(C.load_or_create(Path(sys.argv[1])).certificate"
        ".serial_number)"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / "ca")],
            stdout=subprocess.PIPE,
            env={"PYTHONPATH": str(SRC)},
        )
        for _ in range(6)
    ]
    serials = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert all(p.returncode == 0 for p in processes)
    on_disk = x509.load_pem_x509_certificate((tmp_path / "ca" / CA_CERT_FILE).read_bytes())
    assert serials == {str(on_disk.serial_number).encode()}


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path: Path) -> None:
    CertificateAuthority.load_or_create(tmp_path)
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / CA_KEY_FILE).write_bytes(other)
    with pytest.raises(AuthorityError, match="is not the key of"):
        CertificateAuthority.load_or_create(tmp_path)


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    CertificateAuthority.load_or_create(tmp_path)
    (tmp_path / CA_KEY_FILE).unlink()
    with pytest.raises(AuthorityError):
        CertificateAuthority.load_or_create(tmp_path)


def test_python_ssl_verifies_the_leaf_by_ca_and_hostname(ca: CertificateAuthority) -> None:
    context = ca.server_context(
        ["vpce-0a1b2c3d-abcd1234.runtime.sagemaker.us-east-1.vpce.amazonaws.com"]
    )
    with tls_server(context) as port:
        answer = handshake(
            ca, port, "vpce-0a1b2c3d-abcd1234.runtime.sagemaker.us-east-1.vpce.amazonaws.com"
        )
    assert answer.endswith(b"ok")


def test_a_wildcard_name_covers_one_label(ca: CertificateAuthority) -> None:
    with tls_server(ca.server_context(["*.s3.us-east-1.amazonaws.com"])) as port:
        assert handshake(ca, port, "bucket.s3.us-east-1.amazonaws.com").endswith(b"ok")
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            handshake(ca, port, "a.bucket.s3.us-east-1.amazonaws.com")


def test_an_ip_address_san_verifies(ca: CertificateAuthority) -> None:
    with tls_server(ca.server_context(["api.example.test"], ["127.0.0.1"])) as port:
        assert handshake(ca, port, "127.0.0.1").endswith(b"ok")


def test_a_wrong_hostname_is_refused(ca: CertificateAuthority) -> None:
    with (
        tls_server(ca.server_context(["runtime.sagemaker.us-east-1.amazonaws.com"])) as port,
        pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"),
    ):
        handshake(ca, port, "api.sagemaker.us-east-1.amazonaws.com")


def test_a_leaf_of_another_ca_is_refused(tmp_path: Path) -> None:
    ours = CertificateAuthority.load_or_create(tmp_path / "ours")
    theirs = CertificateAuthority.load_or_create(tmp_path / "theirs")
    with (
        tls_server(theirs.server_context(["api.example.test"])) as port,
        pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"),
    ):
        handshake(ours, port, "api.example.test")


def test_contexts_are_cached_per_name_set(ca: CertificateAuthority) -> None:
    first = ca.server_context(["b.example.test", "a.example.test"], ["10.0.0.5"])
    assert ca.server_context(["A.example.test.", "b.example.test"], ["10.0.0.5"]) is first
    assert ca.server_context(["a.example.test"]) is not first
    with pytest.raises(ValueError):
        ca.server_context([])


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_verifies_the_leaf_with_cacert(ca: CertificateAuthority) -> None:
    name = "runtime.sagemaker.us-east-1.amazonaws.com"
    with tls_server(ca.server_context([name])) as port:
        ok = subprocess.run(
            ["curl", "-sS", "--cacert", str(ca.ca_path), "--resolve", f"{name}:{port}:127.0.0.1",
             f"https://{name}:{port}/"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout == "ok"
        wrong = "api.sagemaker.us-east-1.amazonaws.com"
        refused = subprocess.run(
            ["curl", "-sS", "--cacert", str(ca.ca_path), "--resolve", f"{wrong}:{port}:127.0.0.1",
             f"https://{wrong}:{port}/"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert refused.returncode == 60, refused.stderr  # CURLE_PEER_FAILED_VERIFICATION
