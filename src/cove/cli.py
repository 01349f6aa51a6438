"""The `cove` command."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from cove.auth.credentials import load_or_create_admin
from cove.config import CA_DIR, PORT_FILE, InvalidSetting, Settings, default_data_dir
from cove.storage.data_dir import DataDirInUse


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()


def cmd_server(args: argparse.Namespace) -> int:
    from cove.server import run

    chosen = {} if args.cross_az_delay_ms is None else {"cross_az_delay_ms": args.cross_az_delay_ms}
    try:
        run(Settings(data_dir=_data_dir(args), host=args.host, port=args.port, **chosen))
    except (DataDirInUse, InvalidSetting) as exc:
        print(f"cove server: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    settings = Settings(data_dir=data_dir)
    access_key, secret = load_or_create_admin(data_dir)
    port_file = data_dir / PORT_FILE
    url = port_file.read_text().strip() if port_file.exists() else settings.public_url
    values = {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": settings.region,
        # what Cove's TLS listeners (VPC endpoints, a VPC's public edge) are signed by
        "AWS_CA_BUNDLE": str(_ca_path(data_dir)),
    }
    for key, value in values.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    from cove.exec_host import run_in_subnet

    command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not command:
        print("cove exec: give a command after --", file=sys.stderr)
        return 2
    return run_in_subnet(
        _data_dir(args), args.subnet, args.security_group, args.role, command, args.user
    )


def _ca_path(data_dir: Path) -> Path:
    """Where the server keeps its CA certificate (made on its first start)."""
    from cove.pki.authority import CA_CERT_FILE

    return data_dir / CA_DIR / CA_CERT_FILE


def cmd_logs(args: argparse.Namespace) -> int:
    from cove.jobs.logs import show

    return show(_data_dir(args), args.job_name, follow=args.follow)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cove",
        description="Cove: a self-hosted SageMaker inference stack that really serves models.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    data_help = "data directory (default: $COVE_HOME or ~/.cove)"

    server = sub.add_parser(
        "server",
        help="run the Cove server in the foreground",
        description="Run the Cove server in the foreground until SIGINT/SIGTERM. "
        "Creates admin credentials in the data dir on first start; one server per data dir. "
        "Model instances and jobs run sandboxed (bubblewrap, cgroups); COVE_SANDBOX=off "
        "runs them unsandboxed, with a warning at every start.",
    )
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=int, default=8443, help="port to listen on")
    server.add_argument("--data-dir", help=data_help)
    server.add_argument(
        "--cross-az-delay-ms", type=float, metavar="MS",
        help="make cross-AZ cost visible: a call served by an instance in another "
        "Availability Zone than its caller's (the interface endpoint ENI it came through, "
        "or the subnet of a VPC host on the public path) waits MS milliseconds first "
        "(default: $COVE_CROSS_AZ_DELAY_MS or 0, off)",
    )  # fmt: skip
    server.set_defaults(func=cmd_server)

    env = sub.add_parser(
        "env",
        help="print shell exports that point the AWS CLI and boto3 at Cove",
        description='Print export lines; use as: eval "$(cove env)"',
    )
    env.add_argument("--data-dir", help=data_help)
    env.set_defaults(func=cmd_env)

    exec_ = sub.add_parser(
        "exec",
        help="run a command as a host in a VPC subnet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run COMMAND as a host in SUBNET_ID, as an EC2 instance there would run: "
        "its connections come from its own private IP in that subnet, its security groups "
        "apply, its resolver is the VPC's DNS (private DNS names of interface endpoints "
        "resolve there), it trusts Cove's certificate authority (AWS_CA_BUNDLE, "
        "REQUESTS_CA_BUNDLE, SSL_CERT_FILE, CURL_CA_BUNDLE), and AWS_ENDPOINT_URL is not "
        "set, so clients use the services' real hostnames. With --role, boto3 and the AWS "
        "CLI find that role's temporary credentials through the instance metadata service "
        "at 169.254.169.254 (IMDSv2); the role must trust ec2.amazonaws.com. COMMAND runs "
        "without capabilities (it cannot leave the host's network or change the VPC's "
        "rules), as --user, with the data dir hidden. Standard streams and the exit code "
        "pass through; the host ends with the command (or when this process is killed). "
        "Needs a running `cove server`, and the server's user: root for a server running as "
        "root; for a rootless server (its namespaces in a user namespace of its own), that "
        "same user, without --user.",
        epilog="example:\n  cove exec --subnet subnet-0a1b2c3d4e5f60718 --security-group "
        "sg-0123456789abcdef0 \\\n    --role arn:aws:iam::000000000000:role/host-role -- \\\n"
        "    aws sagemaker-runtime invoke-endpoint --endpoint-name my-endpoint \\\n"
        "    --body '1,2,3' --content-type text/csv /dev/stdout",
    )
    exec_.add_argument("--subnet", required=True, metavar="SUBNET_ID", help="the subnet")
    exec_.add_argument(
        "--security-group", action="append", default=[], metavar="SG_ID",
        help="a security group of the host (repeat for more; default: the VPC's default group)",
    )  # fmt: skip
    exec_.add_argument("--role", metavar="ROLE_ARN", help="the role the host's credentials are of")
    exec_.add_argument(
        "--user", metavar="USER",
        help="who COMMAND runs as (a name or uid; default root's uid; root servers only); "
        "always without capabilities, in PID and mount namespaces of its own, the data dir "
        "hidden",
    )  # fmt: skip
    exec_.add_argument("--data-dir", help=data_help)
    exec_.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS]")
    exec_.set_defaults(func=cmd_exec)

    logs = sub.add_parser(
        "logs",
        help="print a training job's log or a log group's events",
        description="Print the log a training job wrote, or the events of a CloudWatch "
        "Logs group such as /aws/lambda/<function> or API-Gateway-Execution-Logs_<api>/<stage> "
        "(a name starting with '/', or any group that exists), each line prefixed by its "
        "log stream. Both are kept in the data dir; the server need not run.",
    )
    logs.add_argument("job_name", metavar="NAME", help="a TrainingJobName, or a log group name")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("--data-dir", help=data_help)
    logs.set_defaults(func=cmd_logs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
