"""The instance metadata service of a host in a subnet, at 169.254.169.254 inside its
namespace, the way EC2's answers with IMDSv2 required (EC2 User Guide, "Use the Instance
Metadata Service to access instance metadata", "Retrieve instance metadata", "Retrieve
security credentials from instance metadata"):

- a session token comes from `PUT /latest/api/token` with
  `X-aws-ec2-metadata-token-ttl-seconds` (1 to 21600); without the header, or outside the
  range, 400; a PUT that carries `X-Forwarded-For` is refused (403);
- every read carries `X-aws-ec2-metadata-token`; without a valid one, 401;
- `meta-data/iam/security-credentials/` names the role, and `.../<role>` answers its
  temporary credentials (Code, LastUpdated, Type AWS-HMAC, AccessKeyId, SecretAccessKey,
  Token, Expiration), which boto3 and the AWS CLI find on their own.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cove.errors import AwsError
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import Request, Response
from cove.identity.sessions import Session
from cove.identity.vending import SESSION_SECONDS
from cove.network.hosts import Host

TOKEN_PATH = "/latest/api/token"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
MAX_TTL = 21600
MAX_TOKENS = 1000  # live tokens kept per host
_TEXT = [("Content-Type", "text/plain")]


class HostsByInterface(Protocol):
    def host(self, interface_id: str) -> Host | None: ...


@dataclass(frozen=True)
class _Token:
    interface_id: str
    expires: float


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MetadataService(ServiceDefaults):
    protocol = "rest-json"
    signing_names = (UNSIGNED,)
    own_authentication = True  # its session token is the credential

    def __init__(
        self,
        hosts: HostsByInterface,
        credentials: Callable[[str], Session | None],
        region: str,
        account_id: str,
    ) -> None:
        self.hosts = hosts
        self.credentials = credentials  # a host's grant token -> its role's session
        self.region = region
        self.account_id = account_id
        self._tokens: dict[str, _Token] = {}

    def claims(self, req: Request) -> bool:
        return req.context.listener.kind == "imds"

    def error_response(self, err: AwsError, req: Request) -> Response:
        return Response(err.status, _TEXT, f"{err.message}\n".encode())

    async def handle(self, req: Request) -> Response:
        interface_id = req.context.listener.interface_id or ""
        host = self.hosts.host(interface_id)
        if host is None:
            raise AwsError("NotFound", "Not Found", 404)
        if req.path == TOKEN_PATH:
            return self._token(req, interface_id)
        if req.method not in ("GET", "HEAD"):
            raise AwsError("MethodNotAllowed", "Method Not Allowed", 405)
        token = self._tokens.get(req.headers.get(TOKEN_HEADER, ""))
        if token is None or token.interface_id != interface_id or token.expires < time.time():
            raise AwsError("Unauthorized", "Unauthorized", 401)
        body = self._read(host, req.path)
        if body is None:
            raise AwsError("NotFound", "Not Found", 404)
        return Response(200, _TEXT, body.encode())

    def _token(self, req: Request, interface_id: str) -> Response:
        if req.method != "PUT":
            raise AwsError("MethodNotAllowed", "Method Not Allowed", 405)
        if "x-forwarded-for" in req.headers:
            raise AwsError("Forbidden", "Forbidden", 403)
        try:
            ttl = int(req.headers.get(TTL_HEADER, ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= MAX_TTL:
            raise AwsError("BadRequest", "Bad Request", 400)
        now = time.time()
        self._tokens = {k: t for k, t in self._tokens.items() if t.expires > now}
        mine = [k for k, t in self._tokens.items() if t.interface_id == interface_id]
        for old in mine[: max(0, len(mine) - MAX_TOKENS + 1)]:  # a host asking in a loop
            del self._tokens[old]  # keeps only its newest tokens
        value = secrets.token_urlsafe(40)
        self._tokens[value] = _Token(interface_id, now + ttl)
        headers = [*_TEXT, ("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))]
        return Response(200, headers, value.encode())

    def _read(self, host: Host, path: str) -> str | None:
        eni = host.interface
        mac = f"network/interfaces/macs/{eni.mac}"
        meta = {
            "instance-id": host.instance_id,
            "local-ipv4": eni.private_ip,
            "mac": eni.mac,
            "placement/availability-zone": eni.zone.name,
            "placement/availability-zone-id": eni.zone.zone_id,
            "placement/region": self.region,
            "security-groups": "\n".join(host.group_names),  # names; the ids are below
            f"{mac}/subnet-id": eni.subnet_id,
            f"{mac}/vpc-id": eni.vpc_id,
            f"{mac}/interface-id": eni.eni_id,
            f"{mac}/security-group-ids": "\n".join(eni.group_ids),
        }
        if path == "/latest/dynamic/instance-identity/document":
            return json.dumps(
                {
                    "accountId": self.account_id,
                    "availabilityZone": eni.zone.name,
                    "instanceId": host.instance_id,
                    "privateIp": eni.private_ip,
                    "region": self.region,
                    "version": "2017-09-30",
                },
                indent=2,
            )
        if path != "/latest/meta-data" and not path.startswith("/latest/meta-data/"):
            return None
        key = path.removeprefix("/latest/meta-data").strip("/")
        if key == "iam" or key.startswith("iam/"):
            return self._iam(host, key.removeprefix("iam").strip("/"))
        if key in meta:
            return meta[key]
        listed = {**meta, **({"iam/info": ""} if host.role_arn else {})}
        return _listing(listed, key)

    def _iam(self, host: Host, rest: str) -> str | None:
        if host.role_name is None or host.credentials_token is None:
            return None
        if rest == "":
            return "info\nsecurity-credentials/"
        if rest == "security-credentials":
            return host.role_name
        if rest == f"security-credentials/{host.role_name}":
            session = self.credentials(host.credentials_token)
            if session is None:  # the role was deleted
                return None
            return json.dumps(
                {
                    "Code": "Success",
                    "LastUpdated": _iso(session.expires - SESSION_SECONDS),
                    "Type": "AWS-HMAC",
                    "AccessKeyId": session.access_key_id,
                    "SecretAccessKey": session.secret,
                    "Token": session.token,
                    "Expiration": _iso(session.expires),
                },
                indent=2,
            )
        if rest == "info":
            return json.dumps(
                {
                    "Code": "Success",
                    "LastUpdated": _iso(time.time()),
                    "InstanceProfileArn": host.role_arn.replace(":role/", ":instance-profile/"),
                    "InstanceProfileId": "AIPA" + host.instance_id[2:].upper(),
                },
                indent=2,
            )
        return None


def _listing(meta: dict[str, str], directory: str) -> str | None:
    """A metadata directory lists what is under it, subdirectories with a slash."""
    prefix = f"{directory}/" if directory else ""
    entries = set()
    for key in meta:
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            entries.add(rest.split("/")[0] + ("/" if "/" in rest else ""))
    return "\n".join(sorted(entries)) if entries else None
