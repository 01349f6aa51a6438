"""GetFunction's `Code.Location`: an S3-style SigV4 presigned GET of the version's
deployment package, valid for 10 minutes as Lambda's is (API Reference,
FunctionCodeLocation: "The URL is valid for up to 10 minutes"), path style on the address
the caller used:

    http://<host>/awslambda-<region>-tasks/snapshots/<account>/<function>-<sha256>?X-Amz-...

Lambda's own URLs are presigned GETs of a bucket of its own in the same way. Cove's are
signed with a key of their own, kept in the data dir (a URL outlives a restart, as
Lambda's outlive anything but their expiry), that only `CodeLocationService` accepts: the
key authenticates nothing else, and the signature covers one package's path. A request
past its expiry, or with a signature that does not match, gets S3's error document."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cove.auth.credentials import Credential, CredentialStore, load_or_create_pair
from cove.auth.presign import presigned_get
from cove.auth.sigv4 import AuthFailure, auth_error, verify
from cove.errors import AwsError
from cove.functions.packages import Packages
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import FileBody, Principal, Request, RequestContext, Response
from cove.protocol.rest_errors import error_response
from cove.protocol.shapes import service_model

KEY_FILE = "lambda-code-key.json"  # in the data dir
LIFETIME = 600  # seconds a Code.Location stays valid
_S3 = service_model("s3")


@dataclass(frozen=True)
class CodeUrls:
    """Makes the presigned URLs (and knows the path and key they carry)."""

    region: str
    account_id: str
    key: Credential
    default_host: str  # for a caller that named no Host

    @classmethod
    def load(cls, data_dir: Path, region: str, account_id: str, default_host: str) -> CodeUrls:
        access_key, secret = load_or_create_pair(data_dir / KEY_FILE)
        principal = Principal(account_id, "lambda.amazonaws.com", access_key)
        return cls(region, account_id, Credential(access_key, secret, principal), default_host)

    @property
    def prefix(self) -> str:
        return f"/awslambda-{self.region}-tasks/snapshots/{self.account_id}/"

    def url(
        self, ctx: RequestContext, function: str, package: str, at: dt.datetime | None = None
    ) -> str:
        scheme = "https" if ctx.listener.tls else "http"
        host = ctx.host or self.default_host
        path = self.prefix + quote(f"{function}-{package}", safe="")
        return presigned_get(
            f"{scheme}://{host}{path}", self.key.access_key, self.key.secret_key,
            self.region, LIFETIME, at,
        )  # fmt: skip

    def package_of(self, path: str) -> str | None:
        """The package (its sha256) a URL's path names; None for another path."""
        if not path.startswith(self.prefix):
            return None
        name = path.removeprefix(self.prefix)
        key = name.rsplit("-", 1)[-1]
        return key if len(key) == 64 else None


class CodeLocationService(ServiceDefaults):
    """Answers the URLs CodeUrls signed with the package's zip."""

    protocol = "rest-xml"
    signing_names = ("s3", UNSIGNED)
    own_authentication = True  # its own key, checked here
    claims_by_address = True  # before S3, which would take any s3-signed request

    def __init__(self, urls: CodeUrls, packages: Packages) -> None:
        self.urls = urls
        self.packages = packages
        self._keys = CredentialStore(urls.account_id)
        self._keys.add(urls.key)
        self._marker = f"X-Amz-Credential={urls.key.access_key}%2F"

    def claims(self, req: Request) -> bool:
        # a URL signed with this key is this service's; anything else goes on to S3
        return self._marker in req.query and req.path.startswith(self.urls.prefix)

    def error_response(self, err: AwsError, req: Request) -> Response:
        return error_response(_S3, err, req.context.request_id, method=req.method)

    async def handle(self, req: Request) -> Response:
        try:
            verify(req, self._keys)
        except AuthFailure as failure:
            raise auth_error(failure, self.protocol) from None
        if req.method != "GET":
            raise AwsError(
                "MethodNotAllowed", "The specified method is not allowed against this resource.",
                405,
            )  # fmt: skip
        package = self.urls.package_of(req.path)
        path = None if package is None else self.packages.zip_path(package)
        if path is None:
            raise AwsError("NoSuchKey", "The specified key does not exist.", 404)
        size = path.stat().st_size
        headers = [("Content-Type", "application/zip")]
        fh = open(path, "rb")  # noqa: SIM115 - the HTTP layer closes it once sent
        return Response(200, headers, file=FileBody(fh, 0, size))
