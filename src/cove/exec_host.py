"""`cove exec`'s client side: ask the server for a host in a subnet (signed with the
data dir's admin key, as for EC2), run the command inside the host's network namespace,
in a mount namespace of its own where /etc/resolv.conf names the VPC's resolver (and
/etc/nsswitch.conf resolves hosts by files and DNS only) and the data dir is covered, in a
PID namespace of its own, with no capabilities (so it cannot leave the namespace, change
the router's rules, read the data dir or look into the server), and end the host when the
command ends. The server also ends it if this
process is killed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cove.auth.credentials import load_or_create_admin
from cove.config import CA_DIR, PORT_FILE, Settings
from cove.host.netns.namespaces import enter_argv
from cove.pki.authority import CA_CERT_FILE

HOSTS_PATH = "/_cove/hosts"
# what would point clients anywhere but where an EC2 instance's clients go
_CLEARED = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "HTTP_PROXY",
    "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy",
)  # fmt: skip
# Inside the mount namespace (still root): the host's resolver configuration in place of
# the machine's, then the command as the host's user, without privileges.
# The data dir is covered by an empty tmpfs; the command runs in a PID namespace of its
# own (it cannot see the server's processes, whose memory holds the keys).
_ENTER_HOST = (
    'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/nsswitch.conf '
    '&& mount -t tmpfs -o size=1m,mode=0700 cove-hidden "$3" && shift 3 && exec "$@"'
)
_NSSWITCH = """passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
ethers: files
rpc: files
"""


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


def host_user(user: str | None) -> tuple[int, int]:
    """Who the command runs as: `--user` (a name or uid), else root's uid. Either way
    without capabilities: no leaving the namespaces, no changing the network or mounts."""
    import pwd

    if user is None:
        return 0, 0
    try:
        entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
    except (KeyError, ValueError):
        raise ExecFailed(f"no user {user!r}") from None
    return entry.pw_uid, entry.pw_gid


def _host_identity(rootless: bool, user: str | None) -> tuple[int, int, list[str]]:
    """Who owns the host's home, and the setpriv prefix the command runs under.

    A root server's host runs as root or `--user`, without capabilities. A rootless
    server's namespaces live in its user namespace, where only its own user exists (as
    root, without capabilities once dropped): only that user can enter them."""
    no_caps = ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    if rootless:
        if user is not None:
            raise ExecFailed(
                "--user needs a server running as root: a rootless server's hosts have "
                "one user, the server's own"
            )
        return os.getuid(), os.getgid(), ["setpriv", *no_caps]
    if os.geteuid() != 0:
        raise ExecFailed("needs root: the server runs as root, so its namespaces are root's")
    uid, gid = host_user(user)
    return uid, gid, ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *no_caps]


def _host_files(work: Path, resolver_ip: str, ca: Path, uid: int, gid: int) -> dict[str, Path]:
    """The files the host sees: its resolv.conf and nsswitch.conf, Cove's CA, a home."""
    work.chmod(0o755)
    files = {"resolv": work / "resolv.conf", "nsswitch": work / "nsswitch.conf",
             "ca": work / "cove-ca.pem", "home": work / "home"}  # fmt: skip
    files["resolv"].write_text(f"nameserver {resolver_ip}\noptions timeout:2 attempts:2\n")
    files["nsswitch"].write_text(_NSSWITCH)
    files["ca"].write_bytes(ca.read_bytes())
    for name in ("resolv", "nsswitch", "ca"):
        files[name].chmod(0o644)
    files["home"].mkdir(mode=0o700)
    os.chown(files["home"], uid, gid)
    return files


def run_in_subnet(
    data_dir: Path, subnet_id: str, group_ids: list[str], role_arn: str | None,
    command: list[str], user: str | None = None,
) -> int:  # fmt: skip
    ca = data_dir / CA_DIR / CA_CERT_FILE
    try:
        if not ca.exists():
            raise ExecFailed(f"no Cove CA in {data_dir} (start `cove server` first)")
        host = _call(
            data_dir, "POST", HOSTS_PATH,
            {"SubnetId": subnet_id, "SecurityGroupIds": group_ids, "RoleArn": role_arn,
             "ClientPid": os.getpid()},
        )  # fmt: skip
    except ExecFailed as error:
        print(f"cove exec: {error}", file=sys.stderr)
        return 125
    work = Path(tempfile.mkdtemp(prefix="cove-exec-"))
    try:
        # built here from the two paths alone: never run a command line a server sent
        try:
            enter = enter_argv(host["NamespacePath"], host.get("UserNamespacePath"))
        except ValueError as error:
            raise ExecFailed(f"the server's answer is not a host's: {error}") from None
        uid, gid, drop = _host_identity(host.get("UserNamespacePath") is not None, user)
        files = _host_files(work, host["ResolverIp"], ca, uid, gid)
        argv = [
            *enter,
            "unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--",
            "sh", "-c", _ENTER_HOST, "cove-exec", str(files["resolv"]), str(files["nsswitch"]),
            str(data_dir.resolve()), *drop, *command,
        ]  # fmt: skip
        env = host_environment(str(files["ca"]), host["Region"])
        env["HOME"] = str(files["home"])
        return subprocess.call(argv, env=env)
    except ExecFailed as error:
        print(f"cove exec: {error}", file=sys.stderr)
        return 125
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
        try:
            _call(data_dir, "DELETE", f"{HOSTS_PATH}/{host['InstanceId']}")
        except ExecFailed as error:
            print(f"cove exec: ending the host: {error}", file=sys.stderr)
