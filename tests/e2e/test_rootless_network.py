"""A VPC built by a server without root: `cove server` runs as uid 65534 with no
capabilities, so it cannot make a network namespace directly, and builds every namespace of
its VPCs inside a user namespace of its own (as `unshare -rn` does). Then the same seed-000
path works as with root: an interface endpoint `available` once its TLS listener answers, a
`cove exec` host (the same unprivileged user) calling InvokeEndpoint through the endpoint's
vpce name with a role's credentials from IMDS, an unrouted address timing out; and nothing
is left in the host's network namespace after the server stops.

The test itself needs root, only to give uid 65534 a view of the checkout and of the Python
it runs on (they may sit under root-only directories: /root/.pyenv, a mktemp dir): a
private mount namespace where each root-only ancestor is covered by a tmpfs holding just
those paths. The server's privileges are not widened by it.

AWS pages behind what is pinned: PrivateLink guide, "Access an AWS service using an
interface VPC endpoint" (the endpoint's regional DnsEntries name); EC2 UG, "Use the
Instance Metadata Service to access instance metadata" (IMDSv2 credentials)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import CoveServer, free_port
from models import (
    SKLEARN_IMAGE,
    breast_cancer,
    csv_rows,
    deploy,
    pack,
    sklearn_model,
    sklearn_predict,
    upload,
)

from cove.host.netns.namespaces import NetworkUnavailable, check_support, inodes_in_use

ROOT = Path(__file__).parents[2]
BIN = ROOT / ".venv" / "bin"
UNPRIVILEGED = 65534  # nobody
DROP = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups",
        "--inh-caps=-all", "--"]  # fmt: skip
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}  # fmt: skip


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root to set up the unprivileged user's view"
    try:
        check_support()
    except NetworkUnavailable as why:
        return f"no VPC networks: {why}"
    probe = subprocess.run([*DROP, "unshare", "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no unprivileged user namespaces here: {probe.stderr.strip()}"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def _blocking_ancestor(path: Path) -> Path | None:
    """The topmost directory above path that others may not search, if any."""
    for ancestor in reversed(path.parents):
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def _view_script(paths: list[Path], stage: Path) -> str:
    """Shell commands (as root, in a private mount namespace) after which every path is
    reachable by anyone at its own place: each root-only ancestor is covered by a tmpfs
    into which the paths are bound back."""
    lines = ["set -e"]
    for i, path in enumerate(paths):
        lines.append(f"mkdir -p {stage}/{i} && mount --bind {path} {stage}/{i}")
    covered = {a for p in paths if (a := _blocking_ancestor(p)) is not None}
    lines += [f"mount -t tmpfs -o mode=755 cove-view {a}" for a in sorted(covered)]
    for i, path in enumerate(paths):
        lines.append(f"mkdir -p {path} && mount --bind {stage}/{i} {path}")
    return "\n".join(lines) + '\nexec "$@"\n'


def _interpreter_prefix() -> Path:
    return Path(os.path.realpath(sys.executable)).parents[1]


@pytest.fixture
def rootless_server(tmp_path):
    home = Path(tempfile.mkdtemp(prefix="cove-rootless-", dir="/tmp"))
    os.chown(home, UNPRIVILEGED, UNPRIVILEGED)
    script = _view_script([ROOT.resolve(), _interpreter_prefix()], home / "view")
    launcher = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script,
                "cove-view", *DROP, "env", f"HOME={home}"]  # fmt: skip
    srv = CoveServer(home / "data", free_port(), launcher=launcher)
    try:
        yield srv.start()
    finally:
        srv.stop()
        shutil.rmtree(home, ignore_errors=True)


def _exec(srv: CoveServer, *argv: str) -> subprocess.CompletedProcess[str]:
    """`cove exec` as the server's own unprivileged user, seeing what the server sees."""
    assert srv.proc is not None
    return subprocess.run(
        ["nsenter", f"--mount=/proc/{srv.proc.pid}/ns/mnt", "--", *DROP,
         str(BIN / "python"), "-m", "cove.cli", "exec", "--data-dir", str(srv.data_dir), *argv],
        env={**srv.aws_env(), "PATH": f"{BIN}:{os.environ['PATH']}",
             "HOME": str(srv.data_dir.parent)},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def _children_namespaces(pid: int, kind: str) -> set[str]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout.split()  # fmt: skip
    return {os.readlink(f"/proc/{child}/ns/{kind}") for child in out}


def test_an_unprivileged_server_builds_its_vpcs_in_a_user_namespace_of_its_own(
    rootless_server: CoveServer, tmp_path: Path
) -> None:
    srv = rootless_server
    assert srv.proc is not None
    links_before = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "VPC networks are built rootless" in srv.log()
    status = Path(f"/proc/{srv.proc.pid}/status").read_text()
    assert f"Uid:\t{UNPRIVILEGED}\t" in status
    assert "CapEff:\t0000000000000000" in status

    name = deploy(srv, SKLEARN_IMAGE, upload(srv, pack(sklearn_model(tmp_path / "m"))))
    iam = srv.client("iam")
    role = iam.create_role(RoleName="host", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.put_role_policy(RoleName="host", PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}],
    }))  # fmt: skip
    ec2 = srv.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]  # fmt: skip
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, VpcEndpointType="Interface", SubnetIds=[subnet], PrivateDnsEnabled=False,
        ServiceName="com.amazonaws.us-east-1.sagemaker.runtime",
    )["VpcEndpoint"]["VpcEndpointId"]  # fmt: skip
    for _ in range(100):
        found = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]
        if found["State"] == "available":
            break
        time.sleep(0.1)
    assert found["State"] == "available"
    dns = found["DnsEntries"][0]["DnsName"]
    # the namespaces' holders: the server's user, in a user namespace that is not ours
    assert _children_namespaces(srv.proc.pid, "user") - {os.readlink("/proc/self/ns/user")}
    made = {int(n.split("[")[1].rstrip("]")) for n in _children_namespaces(srv.proc.pid, "net")}
    made.discard(os.stat("/proc/self/ns/net").st_ino)
    assert len(made) >= 2  # the router and the endpoint's ENI

    rows = breast_cancer()[0][:1]
    row = csv_rows(rows).strip()
    done = _exec(
        srv, "--subnet", subnet, "--role", role["Role"]["Arn"], "--",
        "sh", "-c", f"aws sagemaker-runtime invoke-endpoint --endpoint-url https://{dns} "
        f"--endpoint-name {name} --content-type text/csv --body '{row}' "
        "\"$HOME/answer\" && cat \"$HOME/answer\" && "
        "curl -sS -m 2 http://10.99.0.1/; echo \" curl=$?\"",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"ContentType"' in done.stdout  # the CLI's answer, then the prediction
    assert json.loads(done.stdout.split("}")[-1].split()[0]) == [sklearn_predict(rows)[0]]
    assert "curl=28" in done.stdout  # unrouted: the connection timed out
    # a rootless server's hosts have one user: --user is refused with the reason
    refused = _exec(srv, "--subnet", subnet, "--user", "nobody", "--", "true")
    assert refused.returncode == 125
    assert "--user needs a server running as root" in refused.stderr

    assert srv.stop() == []
    assert inodes_in_use() & made == set()
    after = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert after == links_before
