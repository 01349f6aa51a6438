"""What a confined child process (instance or job) starts with from the server: an
allow-list of its environment, never its credentials, and the pid it must die with."""

from __future__ import annotations

import os

from cove.host.confinement import Confinement

INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV")


def inherited_env(scratch: str = "/tmp") -> dict[str, str]:
    """The part of the server's environment a child may see; HOME and TMPDIR are its own
    scratch directory."""
    env = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
    env.update(HOME=scratch, TMPDIR=scratch)
    return env


def parent_pid(confinement: Confinement) -> int:
    """The pid a child must die with; 0 inside a sandbox, whose PID namespace dies with
    the server already (and where the server's pid means nothing)."""
    return 0 if confinement.sandbox.enabled else os.getpid()
