"""The README's "Users, policies and roles" walkthrough, run as written with the real AWS
CLI (issue #10, item 8: the README shows creating a user with a narrow policy and using
its keys): each command of its first `sh` block, with the keys create-access-key printed
put where the block's `export` line has placeholders, and what its comments promise."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import CoveServer

README = Path(__file__).resolve().parents[2] / "README.md"
AWS_BIN = str(Path(sys.executable).parent)


def walkthrough() -> list[str]:
    """The section's commands: comments cut, a command continued over lines (an open
    quote) joined."""
    text = README.read_text()
    section = text.split("### Users, policies and roles", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands: list[str] = []
    pending = ""
    for line in block.splitlines():
        code = line if pending else re.sub(r"\s+#.*$", "", line)
        if not code.strip() and not pending:
            continue
        pending = f"{pending}\n{code}" if pending else code
        if pending.count("'") % 2 == 0:
            commands.append(re.sub(r"'\s+#.*$", "'", pending))
            pending = ""
    return commands


def test_the_readme_walkthrough_runs_as_written(make_server: Any) -> None:
    server: CoveServer = make_server()  # its own account: the walkthrough's names as written
    commands = walkthrough()
    assert [shlex.split(c)[:3] for c in commands[:3]] == [
        ["aws", "iam", "create-user"], ["aws", "iam", "put-user-policy"],
        ["aws", "iam", "create-access-key"],
    ]  # fmt: skip
    server.client("s3").create_bucket(Bucket="models")
    server.client("s3").put_object(Bucket="models", Key="bc/model.tar.gz", Body=b"x")
    env = {**server.aws_env(), "PATH": f"{AWS_BIN}:{os.environ['PATH']}"}
    results: dict[str, subprocess.CompletedProcess] = {}
    for command in commands:
        if command.startswith("export "):
            keys = json.loads(results["create-access-key"].stdout)["AccessKey"]
            assert command == "export AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=..."
            env.update(AWS_ACCESS_KEY_ID=keys["AccessKeyId"],
                       AWS_SECRET_ACCESS_KEY=keys["SecretAccessKey"])  # fmt: skip
            continue
        done = subprocess.run(["bash", "-c", command], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        words = shlex.split(command)
        results[words[3] if words[1] == "s3" else words[2]] = done
    assert all(results[k].returncode == 0 for k in ("create-user", "put-user-policy")), results
    assert json.loads(results["get-caller-identity"].stdout)["Arn"] == (
        "arn:aws:iam::000000000000:user/alice"
    )
    listed = results["s3://models/bc/"]
    assert listed.returncode == 0 and "model.tar.gz" in listed.stdout, listed.stderr
    refused = results["list-models"]
    assert refused.returncode != 0
    assert "(AccessDeniedException)" in refused.stderr
    assert "because no identity-based policy allows the sagemaker:ListModels action" in (
        refused.stderr
    )
