"""Cove's certificate authority: one CA per data directory, made on first start and
loaded afterwards, signing the leaf certificates of the TLS listeners inside VPCs.

Files in the CA's directory:

- `ca.pem`: the CA certificate, mode 0600 like everything in the data dir; what clients
  trust (AWS_CA_BUNDLE, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE point at it;
  `cove exec` hands its hosts a readable copy);
- `ca-key.pem`: the CA's private key (PKCS#8, unencrypted), mode 0600;
- `.ca.lock`: serializes first starts of several processes on one directory.

Leaf keys never touch the disk for longer than `load_cert_chain` needs to read them.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import ipaddress
import os
import secrets
import ssl
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
LOCK_FILE = ".ca.lock"

CA_VALIDITY = datetime.timedelta(days=3650)
# 397 days: the longest the CA/Browser Forum allows for a server certificate, so that no
# client with a stricter policy than OpenSSL's refuses it. Leaves are made per process
# start, so they never come near it.
LEAF_VALIDITY = datetime.timedelta(days=397)
# Backdate a little so that a client whose clock runs slightly behind accepts a fresh leaf.
BACKDATE = datetime.timedelta(minutes=5)


class AuthorityError(Exception):
    """The CA directory holds something unusable (one file without the other, a key that
    does not match the certificate, unreadable PEM)."""


@dataclass(frozen=True)
class _LeafKey:
    names: tuple[str, ...]
    addresses: tuple[str, ...]


class CertificateAuthority:
    """The CA of one data directory. Thread-safe; leaf contexts are cached per name set."""

    def __init__(
        self, directory: Path, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
    ) -> None:
        self._directory = directory
        self._key = key
        self._certificate = certificate
        self._contexts: dict[_LeafKey, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    @classmethod
    def load_or_create(cls, directory: Path) -> CertificateAuthority:
        """Load the CA kept in `directory`, making it (and the directory) on first use.
        Concurrent first starts agree on one CA: creation holds an exclusive lock and
        each file appears only complete, by rename."""
        directory.mkdir(parents=True, exist_ok=True)
        with _locked(directory / LOCK_FILE):
            cert_path, key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE
            if cert_path.exists() or key_path.exists():
                return cls(directory, *_load(cert_path, key_path))
            key, certificate = _new_ca()
            # The key first: a certificate on disk always has its key beside it.
            _write_atomically(key_path, _key_pem(key), mode=0o600)
            _write_atomically(
                # private like everything in the data dir (its owner's clients read it;
                # a sandbox that needs it gets a copy)
                cert_path,
                certificate.public_bytes(serialization.Encoding.PEM),
                mode=0o600,
            )
            return cls(directory, key, certificate)

    @property
    def ca_path(self) -> Path:
        """The CA certificate's PEM file, the bundle clients verify against."""
        return self._directory / CA_CERT_FILE

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    def server_context(self, names: Sequence[str], addresses: Sequence[str] = ()) -> ssl.SSLContext:
        """A TLS server context presenting a leaf for these DNS names (wildcards such as
        `*.example.com` allowed) and IP addresses, signed by this CA. The same set of
        names and addresses gets the same context."""
        if not names and not addresses:
            raise ValueError("a server certificate needs at least one name or address")
        key = _LeafKey(
            names=tuple(sorted({n.lower().rstrip(".") for n in names})),
            addresses=tuple(sorted({str(ipaddress.ip_address(a)) for a in addresses})),
        )
        with self._lock:
            context = self._contexts.get(key)
            if context is None:
                context = self._contexts[key] = self._new_context(key)
            return context

    def _new_context(self, leaf: _LeafKey) -> ssl.SSLContext:
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        certificate = self._sign_leaf(leaf, leaf_key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # load_cert_chain reads files only: a private temporary file (mkstemp makes it
        # 0600) in the CA's own directory, removed as soon as it is read.
        fd, name = tempfile.mkstemp(prefix=".leaf-", suffix=".pem", dir=self._directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_key_pem(leaf_key))
                out.write(certificate.public_bytes(serialization.Encoding.PEM))
            context.load_cert_chain(name)
        finally:
            os.unlink(name)
        return context

    def _sign_leaf(self, leaf: _LeafKey, leaf_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        now = datetime.datetime.now(datetime.UTC)
        subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cove")]
        common_name = (leaf.names or leaf.addresses)[0]
        if len(common_name) <= 64:  # X.520's upper bound; vpce names may be longer
            subject.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        alternatives: list[x509.GeneralName] = [x509.DNSName(n) for n in leaf.names]
        alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in leaf.addresses]
        ca_public = self._key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(self._certificate.subject)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + LEAF_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            # Clients match the hostname against the SAN only; the CN is for people.
            .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )


def _new_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    # A distinct name per CA, so that two data directories' CAs are never mistaken for
    # one another in a trust store or an error message.
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cove"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Cove CA {secrets.token_hex(4)}"),
        ]
    )
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        # It signs leaves only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _load(cert_path: Path, key_path: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise AuthorityError(f"cannot load Cove's CA from {cert_path.parent}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _fingerprint(
        key.public_key()
    ) != _fingerprint(certificate.public_key()):
        raise AuthorityError(f"{key_path} is not the key of {cert_path}")
    return key, certificate


def _fingerprint(public: PublicKeyTypes) -> bytes:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Write `data` to a temporary file beside `path` with `mode` from its creation
    (never readable by others, even briefly), flush it to disk, then rename it over."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
