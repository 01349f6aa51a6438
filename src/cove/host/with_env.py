"""`python -m cove.host.with_env FILE ARGV...`: exec ARGV with the variables in FILE (a
JSON object) added to the environment.

This is how a model's own Environment reaches its process: inside the sandbox, after the
privilege drop, so that variables the model chose (LD_PRELOAD, PATH, ...) never steer
bubblewrap or setpriv, which run as root. Only the standard library is imported, so the
exec'd program starts as if the variables had been there from the beginning (thread-pool
sizes read at import time included)."""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -m cove.host.with_env FILE PROGRAM [ARG...]")
    path, command = argv[0], argv[1:]
    with open(path, encoding="utf-8") as f:
        extra = json.load(f)
    env = {**os.environ, **{str(k): str(v) for k, v in extra.items()}}
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
