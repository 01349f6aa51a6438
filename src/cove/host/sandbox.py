"""The sandbox model, job and function code runs in, built with bubblewrap (`bwrap`).

A sandboxed process gets:
* its own mount view: the host's system directories and the Python runtime read-only, the
  binds its launcher asks for (an instance's model at /opt/ml/model, read-only; its socket
  directory), a private /tmp, a fresh /proc and a minimal /dev; never the data dir (hidden
  under an empty tmpfs wherever a bound directory contains it), never /root or /home;
* its own PID, IPC and UTS namespaces and session: it cannot see or signal the server
  or its neighbours, and when its first process exits or the server dies, the kernel
  kills everything it started (`--die-with-parent`, PID-namespace teardown);
* optionally an empty network namespace (loopback only);
* an unprivileged user: when the server runs as root, `setpriv` drops to SANDBOX_UID
  with no capabilities and no_new_privs; a rootless server runs it in a user namespace.

`Sandbox.disabled()` is the operator's explicit opt-out (COVE_SANDBOX=off): the same
commands run directly, and every start logs that the code is not contained.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cove.config import InvalidSetting

log = logging.getLogger(__name__)

# nobody:nogroup. Sandboxed files (model copies, job dirs) are owned by it, mode 0700/0600.
SANDBOX_UID = 65534
SANDBOX_GID = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs read from /etc; nothing that holds secrets.
ETC_ENTRIES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl",
    "ca-certificates",
    "localtime",
    "timezone",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "host.conf",
    "resolv.conf",
    "gai.conf",
    "mime.types",
    "os-release",
    "protocols",
    "services",
)
TMP_BYTES = 1 << 30  # the private /tmp; tmpfs pages count toward the memory limit too
OPT_OUT_ENV = "COVE_SANDBOX"


class SandboxUnavailable(Exception):
    """This host cannot build the sandbox; str(exc) says why and what to do."""


@dataclass(frozen=True)
class Bind:
    source: Path
    target: str  # the path inside the sandbox
    writable: bool = False


@dataclass(frozen=True)
class Jail:
    """What one sandboxed process sees besides the system and the Python runtime."""

    binds: tuple[Bind, ...] = ()
    cwd: str = "/tmp"
    network: bool = True  # False: a network namespace of its own with loopback only


class Sandbox:
    def __init__(self, data_dir: Path, enabled: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.enabled = enabled
        self.as_root = os.geteuid() == 0
        # Found once, on the server's own PATH: never through a model's environment.
        self.bwrap = shutil.which("bwrap") or "bwrap"
        self.setpriv = shutil.which("setpriv") or "setpriv"

    @classmethod
    def from_environment(cls, data_dir: Path) -> Sandbox:
        value = os.environ.get(OPT_OUT_ENV, "on").strip().lower()
        if value not in ("on", "off"):
            raise InvalidSetting(f"{OPT_OUT_ENV} must be 'on' or 'off', not {value!r}")
        return cls(data_dir, enabled=value == "on")

    # -- what the sandbox looks like ---------------------------------------------------
    def place(self, source: Path, target: str, writable: bool = False) -> Bind:
        """A bind; without a sandbox the process sees the source where it is."""
        return Bind(source, target if self.enabled else str(source), writable)

    def give(self, path: Path) -> None:
        """Hand a directory tree to the sandbox user, so that code inside can read it
        (and write it where bound writable) while it stays 0700/0600 on the host."""
        if not (self.enabled and self.as_root):
            return
        for root, dirs, files in os.walk(path):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), SANDBOX_UID, SANDBOX_GID)
        os.lchown(path, SANDBOX_UID, SANDBOX_GID)

    # -- commands ----------------------------------------------------------------------
    def check(self) -> None:
        """Raise SandboxUnavailable unless sandboxes can be built here (probed once)."""
        if self.enabled:
            _probe(self.as_root)

    def command(self, argv: list[str], jail: Jail, what: str) -> list[str]:
        """`argv` run inside a sandbox as described by `jail`; `what` names it in logs.
        Start it with an environment the server chose: bubblewrap and setpriv run as root
        and would obey LD_PRELOAD or PATH; a model's own variables go in through
        `cove.host.with_env`, past the privilege drop."""
        if not self.enabled:
            log.warning(
                "%s runs WITHOUT a sandbox (%s=off): its code can read the data dir and "
                "the server's files",
                what,
                OPT_OUT_ENV,
            )
            return argv
        self.check()
        return self._wrap(argv, jail)

    def _wrap(self, argv: list[str], jail: Jail) -> list[str]:
        return [*self._bwrap(jail), "--", *self._user(), *argv]

    def _bwrap(self, jail: Jail) -> list[str]:
        args = [
            self.bwrap,
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
        ]
        if not self.as_root:
            args += ["--unshare-user", "--disable-userns"]
        if not jail.network:
            args.append("--unshare-net")
        args += _system_mounts()
        # the private /tmp first: runtime paths under the host's /tmp are bound into it
        args += ["--proc", "/proc", "--dev", "/dev"]
        for scratch in ("/dev/shm", "/tmp"):
            args += ["--size", str(TMP_BYTES), "--perms", "1777", "--tmpfs", scratch]
        made = {"/", "/etc", "/tmp"}
        runtime = _runtime_paths(self.data_dir)
        for path in runtime:
            args += [*_parents(str(path), made), "--ro-bind", str(path), str(path)]
        visible = list(runtime)
        for bind in jail.binds:
            mode = "--bind" if bind.writable else "--ro-bind"
            args += [*_parents(bind.target, made), mode, str(bind.source), bind.target]
            visible.append(bind.source)
        if any(_inside(self.data_dir, p) for p in visible):
            args += ["--tmpfs", str(self.data_dir)]  # mounted last: over whatever shows it
        args += ["--chdir", jail.cwd]
        return args

    def _user(self) -> list[str]:
        if not self.as_root:
            return []
        return [
            self.setpriv,
            f"--reuid={SANDBOX_UID}",
            f"--regid={SANDBOX_GID}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]


def _parents(target: str, made: set[str]) -> list[str]:
    """Directories above a mount point, made 0755 (bwrap would make them 0700, which
    the unprivileged sandbox user could not pass through)."""
    args = []
    for parent in reversed(Path(target).parents):
        if str(parent) not in made:
            made.add(str(parent))
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _inside(path: Path, ancestor: Path) -> bool:
    return path == ancestor or ancestor in path.parents


@functools.cache
def _system_mounts() -> list[str]:
    args: list[str] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    args += ["--perms", "0755", "--dir", "/etc"]
    for entry in ETC_ENTRIES:
        args += ["--ro-bind-try", f"/etc/{entry}", f"/etc/{entry}"]
    return args


@functools.cache
def _runtime_paths(data_dir: Path) -> tuple[Path, ...]:
    """The directories the Python runtime and Cove's own code load from: the
    interpreter's prefixes and the import path (never the working directory, never
    anything inside the data dir), outermost only."""
    import cove

    candidates: list[str | Path] = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        Path(cove.__file__).resolve().parent.parent,
        *sys.path[1:],  # sys.path[0] is the working directory or the script's
        *os.environ.get("PYTHONPATH", "").split(os.pathsep),
    ]
    paths = {Path(p).resolve() for p in candidates if p and Path(p).is_dir()}
    too_wide = {Path("/"), Path.home().resolve()}  # a PYTHONPATH entry must not bind these
    paths = {
        p for p in paths if not _inside(p, data_dir) and not _is_system(p) and p not in too_wide
    }
    return tuple(sorted(p for p in paths if not any(a in p.parents for a in paths)))


def _is_system(path: Path) -> bool:
    return any(_inside(path, Path(d)) for d in SYSTEM_DIRS)


@functools.cache
def _probe(as_root: bool) -> None:
    if shutil.which("bwrap") is None:  # the server's PATH, as Sandbox resolves it
        raise SandboxUnavailable(
            "Cove runs model code in a bubblewrap sandbox, and `bwrap` is not installed "
            "(Debian/Ubuntu: apt-get install bubblewrap). To run model code without a "
            f"sandbox anyway, start the server with {OPT_OUT_ENV}=off."
        )
    if as_root and shutil.which("setpriv") is None:
        raise SandboxUnavailable(
            "Cove runs model code as an unprivileged user through `setpriv` (util-linux), "
            "which is not installed."
        )
    probe = Sandbox(Path("/nonexistent"))
    argv = probe._wrap([sys.executable, "-c", "pass"], Jail())
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, env=_probe_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap could not start a sandbox here: {exc}") from exc
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip()
        raise SandboxUnavailable(
            f"bubblewrap could not build a sandbox on this host ({why}); it needs "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) or a "
            f"server running as root. To run model code without a sandbox anyway, start the "
            f"server with {OPT_OUT_ENV}=off."
        )


def _probe_env() -> dict[str, str]:
    """What the probe's interpreter needs to start: the server's own search paths."""
    keep = ("PATH", "PYTHONPATH")
    return {k: os.environ[k] for k in keep if k in os.environ}


def describe(sandbox: Sandbox, backend_name: str) -> str:
    """One line for the server's start-up log."""
    if not sandbox.enabled:
        return f"sandbox: OFF ({OPT_OUT_ENV}=off); limits: {backend_name}"
    who = f"uid {SANDBOX_UID}" if sandbox.as_root else "a user namespace"
    return f"sandbox: bubblewrap namespaces as {who}; limits: {backend_name}"
