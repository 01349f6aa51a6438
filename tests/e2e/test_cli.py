"""`cove env` and the server's lifecycle, driven as a person would from a shell."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_cove_env_points_the_aws_cli_and_boto3_at_cove(make_server, tmp_path: Path) -> None:
    srv = make_server()
    script = (
        f'eval "$({BIN}/cove env --data-dir {srv.data_dir})"\n'
        f"{BIN}/aws sagemaker list-endpoints\n"
        f"{BIN}/python -c 'import boto3; "
        "print(boto3.client(\"sagemaker\").list_models()[\"Models\"])'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    out = subprocess.run(["bash", "-ec", script], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    boto3_line = out.stdout.rstrip("\n").rsplit("\n", 1)[1]
    assert json.loads(out.stdout[: out.stdout.rindex("}") + 1]) == {"Endpoints": []}
    assert boto3_line == "[]", out.stdout


def test_cove_env_output_is_shell_exports(make_server) -> None:
    srv = make_server()
    out = subprocess.run([str(BIN / "cove"), "env", "--data-dir", str(srv.data_dir)],
                         capture_output=True, text=True, check=True)
    names = [line.split("=", 1)[0] for line in out.stdout.splitlines()]
    assert names == [
        "export AWS_ENDPOINT_URL",
        "export AWS_ACCESS_KEY_ID",
        "export AWS_SECRET_ACCESS_KEY",
        "export AWS_DEFAULT_REGION",
        "export AWS_CA_BUNDLE",
    ]
    assert f"export AWS_ENDPOINT_URL={srv.url}" in out.stdout
    # the CA that signs Cove's TLS listeners inside VPCs, a PEM certificate
    ca = out.stdout.split("export AWS_CA_BUNDLE=", 1)[1].splitlines()[0]
    assert Path(ca).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_first_start_creates_private_admin_credentials(make_server) -> None:
    srv = make_server()
    creds = srv.data_dir / "credentials.json"
    assert creds.stat().st_mode & 0o777 == 0o600
    key, secret = srv.credentials()
    assert key.startswith("AKIA") and len(secret) == 40


def test_sigint_stops_the_server_cleanly(make_server) -> None:
    srv = make_server()
    leftover = srv.stop(signal.SIGINT)
    assert leftover == []
    assert "Cove stopped" in srv.log()


def test_help_texts() -> None:
    out = subprocess.run([str(BIN / "cove"), "server", "--help"], capture_output=True, text=True,
                         check=True)
    assert "--data-dir" in out.stdout and "--port" in out.stdout
