"""`cove exec`'s client side: ask the server for a host in a subnet (signed with the
data dir's admin key, as for EC2), run the command inside the host's network namespace
with the VPC's resolver bound over /etc/resolv.conf (a mount namespace of its own), and
end the host when the command ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cove.auth.credentials import load_or_create_admin
from cove.config import CA_DIR, PORT_FILE, Settings
from cove.pki.authority import CertificateAuthority

HOSTS_PATH = "/_cove/hosts"
# what would point clients anywhere but where an EC2 instance's clients go
_CLEARED = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "HTTP_PROXY",
    "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
)  # fmt: skip
# inside the mount namespace: the VPC's resolver in place of the host's
_BIND_RESOLVER = 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'


class ExecFailed(Exception):
    pass


def _call(data_dir: Path, method: str, path: str, body: dict | None = None) -> dict:
    settings = Settings(data_dir=data_dir)
    port_file = data_dir / PORT_FILE
    if not port_file.exists():
        raise ExecFailed(f"no Cove server is running on {data_dir} (start `cove server`)")
    url = port_file.read_text().strip() + path
    data = json.dumps(body).encode() if body is not None else b""
    request = AWSRequest(method, url, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(*load_or_create_admin(data_dir)), "ec2", settings.region).add_auth(
        request
    )
    prepared = urllib.request.Request(url, data=data or None, method=method)
    for key, value in request.headers.items():
        prepared.add_header(key, value)
    try:
        with urllib.request.urlopen(prepared, timeout=120) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            detail = json.loads(error.read())
            message = f"{detail.get('Code')}: {detail.get('Message')}"
        except ValueError:
            message = str(error)
        raise ExecFailed(message) from None
    except urllib.error.URLError as error:
        raise ExecFailed(f"cannot reach the Cove server at {url}: {error.reason}") from None


def host_environment(ca_bundle: str, region: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update({
        "AWS_CA_BUNDLE": ca_bundle, "REQUESTS_CA_BUNDLE": ca_bundle, "SSL_CERT_FILE": ca_bundle,
        "CURL_CA_BUNDLE": ca_bundle, "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
        # the instance's own view: no profile files of the machine's user
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    })  # fmt: skip
    return env


def run_in_subnet(
    data_dir: Path, subnet_id: str, group_ids: list[str], role_arn: str | None, command: list[str]
) -> int:
    if os.geteuid() != 0:
        print("cove exec: needs root (it enters the host's network namespace)", file=sys.stderr)
        return 126
    try:
        host = _call(
            data_dir, "POST", HOSTS_PATH,
            {"SubnetId": subnet_id, "SecurityGroupIds": group_ids, "RoleArn": role_arn},
        )  # fmt: skip
    except ExecFailed as error:
        print(f"cove exec: {error}", file=sys.stderr)
        return 125
    ca_bundle = str(CertificateAuthority.load_or_create(data_dir / CA_DIR).ca_path)
    argv = [
        "nsenter", f"--net={host['NamespacePath']}", "--",
        "unshare", "--mount", "--", "sh", "-c", _BIND_RESOLVER, "cove-exec",
        host["ResolvConf"], *command,
    ]  # fmt: skip
    try:
        return subprocess.call(argv, env=host_environment(ca_bundle, host["Region"]))
    except KeyboardInterrupt:
        return 130
    finally:
        try:
            _call(data_dir, "DELETE", f"{HOSTS_PATH}/{host['InstanceId']}")
        except ExecFailed as error:
            print(f"cove exec: ending the host: {error}", file=sys.stderr)
