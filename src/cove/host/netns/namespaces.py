"""Network namespaces held by a process, never by a bind mount.

Each namespace lives as long as one holder process (`unshare --net` exec'ing `cat`) reads
the pipe whose write end only this process keeps. When the Cove server exits, however it
exits (SIGKILL included), the kernel closes that write end, `cat` reads EOF and exits, and
the namespace goes with its last reference, taking its interfaces (and a veth's peer in
another namespace) along. Nothing is mounted under /var/run/netns, so nothing can be left
behind.

Why a pipe and not PR_SET_PDEATHSIG: the death signal fires when the *thread* that forked
the holder exits, and these objects are made from worker threads (asyncio.to_thread) that
come and go. The pipe's write end belongs to the process. It is close-on-exec and
subprocess closes inherited descriptors, so children Cove starts do not hold it; a bare
os.fork() without exec would, until that child exits.

The holder is our child, so its pid (and `path`) cannot name another process before we
reap it, which only `close` or the liveness check does, after which the object refuses use.
Processes started inside (through `enter_argv`) keep the namespace alive while they run:
`close` kills them; if the server is SIGKILLed they are the caller's to stop.

Privilege: with CAP_SYS_ADMIN and CAP_NET_ADMIN (root) namespaces are made directly.
Without them, where the kernel lets unprivileged users make user namespaces (`unshare -rn`),
every namespace is made inside one UserNamespace Cove owns (rootless): commands enter it
first (`nsenter --preserve-credentials --user=...`), and sockets are made by a short-lived
process inside and handed over by SCM_RIGHTS, since a multithreaded process cannot join
a user namespace.

Threads: every method blocks (a subprocess or a short-lived thread) and may be called from
any thread; nothing is shared but the holder, guarded by a lock. Callers on an event loop
wrap calls in asyncio.to_thread.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TypeVar

_CLONE_NEWNET = 0x40000000
_CAP_NET_ADMIN = 12
_CAP_SYS_ADMIN = 21
_COMMAND_TIMEOUT = 30.0
_TOOLS = ("ip", "nft", "nsenter", "unshare")

T = TypeVar("T")

# nft 1.0's parser wants a newline before a closing brace.
_PROBE_RULESET = """table ip probe {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
  }
}
"""


# Run inside a namespace by socket() when rootless: argv is the channel's fd, then the
# socket's family, type, protocol, host, port, listen flag and backlog; a failure prints
# its errno.
_MAKE_SOCKET = """
import socket, sys
channel, family, kind, proto, host, port, listen, backlog = sys.argv[1:]
try:
    sock = socket.socket(int(family), int(kind), int(proto))
    if int(kind) == socket.SOCK_STREAM:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    if int(kind) == socket.SOCK_STREAM and int(listen):
        sock.listen(int(backlog))
except OSError as error:
    sys.exit(f"{error.errno} {error.strerror}")
socket.send_fds(socket.socket(fileno=int(channel)), [b"s"], [sock.fileno()])
"""


class NetworkUnavailable(Exception):
    """This host cannot build namespaced networks; the message says why and what to do."""


class CommandFailed(Exception):
    """A command run inside a namespace exited non-zero."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"{' '.join(argv)} exited {returncode}: {stderr.strip()}")


class NamespaceClosed(Exception):
    """The namespace was closed (or its holder died) before this call."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


class Privilege(Enum):
    """How this process can make network namespaces."""

    ROOT = "root"  # CAP_SYS_ADMIN and CAP_NET_ADMIN: directly
    ROOTLESS = "rootless"  # inside a user namespace of its own (unshare -rn)


def _has_admin_capabilities() -> bool:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapEff:"):
                effective = int(line.split()[1], 16)
                return all(effective >> cap & 1 for cap in (_CAP_NET_ADMIN, _CAP_SYS_ADMIN))
    return False


def check_support() -> Privilege:
    """How namespaced networks can be built here; NetworkUnavailable if they cannot
    (namespaces, veth pairs and an nftables forward chain, tried for real)."""
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        raise NetworkUnavailable(
            f"VPC networking needs {', '.join(missing)} on PATH; install iproute2, "
            "nftables and util-linux"
        )
    privilege = Privilege.ROOT if _has_admin_capabilities() else Privilege.ROOTLESS
    unshare = ["unshare", "--net"]
    if privilege is Privilege.ROOTLESS:
        unshare = ["unshare", "--user", "--map-root-user", "--net"]
    probe = subprocess.run(
        [*unshare, "--", "sh", "-c",
         "ip link add name probe0 type veth peer name probe1 && nft -f -"],
        input=_PROBE_RULESET, capture_output=True, text=True, timeout=_COMMAND_TIMEOUT,
        check=False,
    )  # fmt: skip
    if probe.returncode == 0:
        return privilege
    why = probe.stderr.strip()
    if privilege is Privilege.ROOTLESS:
        raise NetworkUnavailable(
            "VPC networking needs either root (CAP_SYS_ADMIN and CAP_NET_ADMIN) or "
            "unprivileged user namespaces, and this process has neither: a user namespace "
            f"with a network namespace failed ({why}); run `cove server` as root, or allow "
            "user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
            "user.max_user_namespaces > 0, no AppArmor restriction on them)"
        )
    raise NetworkUnavailable(
        "this kernel cannot build VPC networks (a network namespace with a veth pair "
        f"and an nftables forward chain failed: {why}); it needs "
        "CONFIG_NET_NS, CONFIG_VETH and nf_tables with conntrack"
    )


_NAMESPACE_PATH = re.compile(r"/proc/[1-9][0-9]*/ns/(net|user)")


def enter_argv(net_path: str | None, user_path: str | None = None) -> list[str]:
    """The argv prefix that runs a command in a network namespace (`/proc/PID/ns/net`),
    through the user namespace that owns it when rootless; only such paths are taken."""
    for path, kind in ((net_path, "net"), (user_path, "user")):
        found = _NAMESPACE_PATH.fullmatch(path) if path is not None else None
        if path is not None and (found is None or found.group(1) != kind):
            raise ValueError(f"not a {kind} namespace path: {path!r}")
    argv = ["nsenter"]
    if user_path is not None:
        # --preserve-credentials: setgroups is denied in it, and our uid is its root anyway
        argv += ["--preserve-credentials", f"--user={user_path}"]
    if net_path is not None:
        argv.append(f"--net={net_path}")
    return [*argv, "--"]


def _hold(argv: list[str], what: str) -> subprocess.Popen[bytes]:
    """Start a holder: argv ends in a shell that says `ready`, then becomes `cat`, one tiny
    process reading our pipe until this process is gone."""
    try:
        holder = subprocess.Popen(
            [*argv, "sh", "-c", "echo ready && exec cat >/dev/null 2>&1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own session: a terminal's ^C to the server's group must not kill it.
            start_new_session=True,
        )
    except FileNotFoundError as error:
        raise NetworkUnavailable(f"cannot create {what}: {error}") from None
    assert holder.stdout is not None and holder.stderr is not None
    ready = holder.stdout.readline()
    if ready != b"ready\n":
        holder.wait()
        message = holder.stderr.read().decode(errors="replace").strip()
        raise NetworkUnavailable(f"cannot create {what}: {message}")
    holder.stdout.close()
    holder.stderr.close()
    return holder


class UserNamespace:
    """The user namespace a rootless Cove makes its network namespaces in: this process's
    user is root there (and only there), alive while its holder is."""

    def __init__(self, holder: subprocess.Popen[bytes]) -> None:
        self._holder = holder
        self.path = f"/proc/{holder.pid}/ns/user"

    @classmethod
    def create(cls) -> UserNamespace:
        return cls(_hold(["unshare", "--user", "--map-root-user", "--"], "a user namespace"))

    def enter_argv(self) -> list[str]:
        return enter_argv(None, self.path)

    def close(self) -> None:
        _kill(self._holder.pid)
        self._holder.wait()
        if self._holder.stdin is not None:
            self._holder.stdin.close()


class Namespace:
    """One network namespace, alive while its holder process is."""

    def __init__(
        self, label: str, holder: subprocess.Popen[bytes], owner: UserNamespace | None = None
    ) -> None:
        self.label = label
        self.owner = owner
        self._holder = holder
        self._pid = holder.pid
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def create(cls, label: str, owner: UserNamespace | None = None) -> Namespace:
        """A new namespace with only a loopback interface, brought up; inside `owner`
        (rootless) when given."""
        prefix = owner.enter_argv() if owner is not None else []
        holder = _hold([*prefix, "unshare", "--net", "--"], "a network namespace")
        namespace = cls(label, holder, owner)
        try:
            namespace.ip("link set lo up")
        except BaseException:
            namespace.close()
            raise
        return namespace

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def path(self) -> str:
        return f"/proc/{self._pid}/ns/net"

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def alive(self) -> bool:
        """Open, and its holder still running (a namespace whose holder died is gone)."""
        return not self._closed and self._holder.poll() is None

    def inode(self) -> int:
        """The namespace's identity (the inode of its nsfs file)."""
        self._check_open()
        return os.stat(self.path).st_ino

    def enter_argv(self) -> list[str]:
        """The argv prefix that runs a command inside this namespace."""
        self._check_open()
        return enter_argv(self.path, self.owner.path if self.owner is not None else None)

    def run(
        self, argv: Sequence[str], input: str | None = None, *, timeout: float = _COMMAND_TIMEOUT
    ) -> str:
        """Run argv inside; its stdout, or CommandFailed carrying its stderr."""
        full = [*self.enter_argv(), *argv]
        done = subprocess.run(
            full, input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            self._check_open()  # a vanished holder explains the failure better
            raise CommandFailed(argv, done.returncode, done.stderr)
        return done.stdout

    def ip(self, *commands: str) -> str:
        """Run `ip` commands (one per argument) in one `ip -batch -`; stops at the first error."""
        return self.run(["ip", "-batch", "-"], input="\n".join(commands) + "\n")

    def nft(self, script: str) -> str:
        """Apply an nftables script in one transaction (all of it or none)."""
        return self.run(["nft", "-f", "-"], input=script)

    def sysctl(self, key: str, value: str | int) -> None:
        """Set a sysctl of this namespace (`net.ipv4.ip_forward`, dots or slashes)."""
        path = "/proc/sys/" + key.replace(".", "/")
        if self.owner is not None:  # /proc/sys/net shows the namespace of its reader
            self.run(["tee", path], input=f"{value}\n")
            return

        def write() -> None:
            # /proc/sys/net resolves to the namespace of the thread that opens it.
            with open(path, "w") as file:
                file.write(f"{value}\n")

        self.call_inside(write)

    def read_sysctl(self, key: str) -> str:
        path = "/proc/sys/" + key.replace(".", "/")
        if self.owner is not None:
            return self.run(["cat", path]).strip()

        def read() -> str:
            with open(path) as file:
                return file.read().strip()

        return self.call_inside(read)

    def socket(
        self,
        family: socket.AddressFamily,
        type: socket.SocketKind,
        address: tuple[str, int],
        *,
        listen: bool = True,
        backlog: int = 128,
        proto: int = 0,
    ) -> socket.socket:
        """A socket made inside, bound to address (and listening if a stream socket,
        unless listen=False: a client's); proto as socket.socket takes it (raw ICMP).

        It stays in this namespace whichever thread uses it later."""
        if self.owner is not None:
            return self._socket_made_inside(family, type, proto, address, listen, backlog)

        def make() -> socket.socket:
            sock = socket.socket(family, type, proto)
            try:
                if type == socket.SOCK_STREAM:  # rebinding past TIME_WAIT; for UDP it
                    # would let a second socket share the port silently
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                if type == socket.SOCK_STREAM and listen:
                    sock.listen(backlog)
            except BaseException:
                sock.close()
                raise
            return sock

        return self.call_inside(make)

    def _socket_made_inside(
        self,
        family: socket.AddressFamily,
        type: socket.SocketKind,
        proto: int,
        address: tuple[str, int],
        listen: bool,
        backlog: int,
    ) -> socket.socket:
        """socket(), rootless: a Python inside makes it and passes it back over a pair."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with ours, theirs:
            argv = [
                sys.executable, "-I", "-S", "-c", _MAKE_SOCKET, str(theirs.fileno()),
                str(int(family)), str(int(type)), str(proto), address[0], str(address[1]),
                str(int(listen)), str(backlog),
            ]  # fmt: skip
            done = subprocess.run(
                [*self.enter_argv(), *argv], pass_fds=(theirs.fileno(),), capture_output=True,
                text=True, timeout=_COMMAND_TIMEOUT, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                self._check_open()
                code, _, message = done.stderr.strip().rpartition("\n")[2].partition(" ")
                if code.isdigit():
                    raise OSError(int(code), message)
                raise CommandFailed(argv, done.returncode, done.stderr)
            _, fds, _, _ = socket.recv_fds(ours, 1, 1)
        return socket.socket(fileno=fds[0])

    def call_inside(self, function: Callable[[], T]) -> T:
        """Call function on a fresh thread that has joined this namespace (root only: a
        rootless process may not join a namespace of its user namespace).

        setns changes only the calling thread, and that thread ends with the call, so no
        other code ever runs in the wrong namespace."""
        self._check_open()
        if self.owner is not None:
            raise NetworkUnavailable("a rootless server cannot join its namespaces")
        outcome: list[T] = []
        failure: list[BaseException] = []

        def body() -> None:
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    if _libc().setns(fd, _CLONE_NEWNET) != 0:
                        code = ctypes.get_errno()
                        raise OSError(code, f"setns: {os.strerror(code)}")
                finally:
                    os.close(fd)
                outcome.append(function())
            except BaseException as error:  # re-raised in the caller's thread
                failure.append(error)

        thread = threading.Thread(target=body, name=f"netns-{self.label}", daemon=True)
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
        return outcome[0]

    def processes(self) -> list[int]:
        """Pids of the processes inside this namespace (the holder included)."""
        inode = self.inode()
        return [pid for pid in _all_pids() if _net_inode(pid) == inode]

    def close(self) -> None:
        """Kill the holder and every process still inside; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._delete_links()
            self._closed = True
            try:
                inode = os.stat(self.path).st_ino
            except OSError:
                inode = None
            if inode is not None:
                # Processes run inside (nsenter) would keep the namespace alive.
                for pid in _all_pids():
                    if pid != self._pid and _net_inode(pid) == inode:
                        _kill(pid)
            _kill(self._pid)
            self._holder.wait()
            if self._holder.stdin is not None:
                self._holder.stdin.close()

    def _delete_links(self) -> None:
        """Delete the interfaces now: the kernel dismantles a dead namespace later, on a
        work queue, and until then a veth's peer would still show in the other namespace."""
        try:
            shown = json.loads(self.run(["ip", "-j", "link", "show"]))
            doomed = [link["ifname"] for link in shown if link["ifname"] != "lo"]
            if doomed:
                self.ip(*(f"link del dev {name}" for name in doomed))
        except (CommandFailed, NamespaceClosed, ValueError):
            pass  # the namespace is going anyway; this only made it prompt

    def _check_open(self) -> None:
        if self._closed:
            raise NamespaceClosed(f"namespace {self.label} is closed")
        if self._holder.poll() is not None:
            raise NamespaceClosed(f"namespace {self.label}: its holder exited")

    def __enter__(self) -> Namespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Namespace({self.label!r}, pid={self._pid})"


def inodes_in_use() -> set[int]:
    """The network namespaces some process is in, by inode (for leak checks)."""
    return {inode for pid in _all_pids() if (inode := _net_inode(pid)) is not None}


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _net_inode(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except OSError as error:
        if error.errno != errno.ESRCH:
            raise


def wait_gone(pids: Sequence[int], timeout: float = 5.0) -> bool:
    """True once none of pids is a live process (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        if not any(_running(pid) for pid in pids):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            state = file.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
