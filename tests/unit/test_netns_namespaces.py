"""Namespaces held by a process: isolation, commands inside, and nothing left behind, even
when the process that made them is SIGKILLed."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from netns_lab import host_unchanged, requires_netns  # noqa: F401 (a fixture)

from cove.host.netns import namespaces
from cove.host.netns.namespaces import (
    CommandFailed,
    Namespace,
    NamespaceClosed,
    NetworkUnavailable,
    Privilege,
    UserNamespace,
    inodes_in_use,
    wait_gone,
)

SRC = Path(__file__).resolve().parents[2] / "src"


@requires_netns
def test_without_admin_capabilities_it_builds_rootless(monkeypatch: pytest.MonkeyPatch) -> None:
    assert namespaces.check_support() is Privilege.ROOT
    monkeypatch.setattr(namespaces, "_has_admin_capabilities", lambda: False)
    assert namespaces.check_support() is Privilege.ROOTLESS  # unshare -rn works here


def test_with_neither_root_nor_user_namespaces_it_fails_closed_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(namespaces, "_has_admin_capabilities", lambda: False)
    refused = subprocess.CompletedProcess(
        [], 1, "", "unshare: unshare failed: Operation not permitted"
    )
    monkeypatch.setattr(namespaces.subprocess, "run", lambda *a, **k: refused)
    with pytest.raises(NetworkUnavailable, match="either root .* or unprivileged user namespaces"):
        namespaces.check_support()


pytestmark = pytest.mark.usefixtures("host_unchanged")


@requires_netns
def test_a_namespace_has_only_loopback_and_its_own_sysctls() -> None:
    with Namespace.create("solo") as ns:
        links = json.loads(ns.run(["ip", "-j", "link"]))
        assert [link["ifname"] for link in links] == ["lo"]
        assert "UP" in links[0]["flags"]
        assert ns.inode() != os.stat("/proc/self/ns/net").st_ino
        ns.sysctl("net.ipv4.ip_forward", 1)
        assert ns.read_sysctl("net.ipv4.ip_forward") == "1"
        assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "0"


@requires_netns
def test_a_socket_made_inside_is_not_visible_in_the_host() -> None:
    with Namespace.create("sock") as ns:
        server = ns.socket(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0))
        port = server.getsockname()[1]
        try:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            # The same port from inside the namespace connects (from this thread).
            client = ns.socket(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0), listen=False)
            with client:
                client.connect(("127.0.0.1", port))
            assert f":{port} " in ns.run(["ss", "-Hltn"])
        finally:
            server.close()


@requires_netns
def test_commands_inside_fail_with_their_stderr() -> None:
    with Namespace.create("cmd") as ns:
        with pytest.raises(CommandFailed, match="nosuchdev") as failure:
            ns.ip("link set dev nosuchdev up")
        assert failure.value.returncode != 0
        out = subprocess.run(
            [*ns.enter_argv(), "ip", "-o", "link"], capture_output=True, text=True, check=True
        )
        assert out.stdout.count("\n") == 1  # only lo


@requires_netns
def test_an_nft_script_applies_all_or_nothing() -> None:
    with Namespace.create("nft") as ns:
        with pytest.raises(CommandFailed):
            ns.nft("add table ip good\nadd chain ip good c\nadd rule ip good c nonsense\n")
        assert ns.run(["nft", "list", "ruleset"]).strip() == ""
        ns.nft("add table ip good\n")
        assert "table ip good" in ns.run(["nft", "list", "ruleset"])


@requires_netns
def test_close_takes_interfaces_processes_and_the_namespace_and_is_idempotent() -> None:
    a = Namespace.create("a")
    b = Namespace.create("b")
    try:
        a.ip(f"link add name va type veth peer name vb netns {b.pid}")
        inside = subprocess.Popen([*a.enter_argv(), "sleep", "60"])
        time.sleep(0.2)
        inode = a.inode()
        assert inside.pid in a.processes()
        a.close()
        a.close()
        assert inside.wait(timeout=5) == -signal.SIGKILL
        assert wait_gone([a.pid])
        assert inode not in inodes_in_use()
        # The veth's other end went with it, by the time close returned.
        assert "vb" not in b.run(["ip", "-o", "link"])
        with pytest.raises(NamespaceClosed):
            a.ip("link show")
    finally:
        a.close()
        b.close()


@requires_netns
def test_a_namespace_outlives_the_thread_that_made_it() -> None:
    # PR_SET_PDEATHSIG would kill the holder here: it fires when the forking thread ends.
    made: list[Namespace] = []
    thread = threading.Thread(target=lambda: made.append(Namespace.create("thread")))
    thread.start()
    thread.join()
    with made[0] as ns:
        time.sleep(0.3)
        assert ns.run(["ip", "-o", "link"]).startswith("1: lo")


_PARENT = """
import sys, time
from cove.host.netns.namespaces import Namespace
a, b = Namespace.create("a"), Namespace.create("b")
a.ip(f"link add name va type veth peer name vb netns {b.pid}")
print(a.pid, b.pid, a.inode(), b.inode(), flush=True)
time.sleep(600)
"""


@requires_netns
def test_holders_die_with_their_parent_even_when_it_is_sigkilled() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    try:
        assert parent.stdout is not None
        a_pid, b_pid, a_inode, b_inode = map(int, parent.stdout.readline().split())
        assert {a_inode, b_inode} <= inodes_in_use()
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=5)
        assert wait_gone([a_pid, b_pid])
        assert not {a_inode, b_inode} & inodes_in_use()
    finally:
        parent.kill()
        parent.wait()


@requires_netns
def test_inside_a_user_namespace_commands_sysctls_and_sockets_work_as_with_root() -> None:
    owner = UserNamespace.create()
    try:
        ns = Namespace.create("owned", owner)
        with ns:
            assert ns.enter_argv()[:3] == [
                "nsenter",
                "--preserve-credentials",
                f"--user={owner.path}",
            ]
            assert os.readlink(f"/proc/{ns.pid}/ns/user") != os.readlink("/proc/self/ns/user")
            assert ns.run(["id", "-u"]).strip() == "0"  # our user is its root
            ns.sysctl("net.ipv4.ip_forward", 1)
            assert ns.read_sysctl("net.ipv4.ip_forward") == "1"
            assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "0"
            # a socket made inside by a helper process, handed over: it listens there only
            server = ns.socket(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0))
            with server:
                port = server.getsockname()[1]
                with pytest.raises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                client = ns.socket(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0),
                                   listen=False)  # fmt: skip
                with client:
                    client.connect(("127.0.0.1", port))
                # the helper's failure is the OSError binding would have raised here
                with pytest.raises(OSError) as taken:
                    ns.socket(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", port))
                assert taken.value.errno == errno.EADDRINUSE
            with pytest.raises(NetworkUnavailable, match="rootless"):
                ns.call_inside(lambda: None)
            inode = ns.inode()
        assert inode not in inodes_in_use()
    finally:
        owner.close()


def test_enter_argv_takes_only_namespace_paths() -> None:
    # cove exec builds its nsenter command from the paths a server answered, never more
    assert namespaces.enter_argv("/proc/42/ns/net") == ["nsenter", "--net=/proc/42/ns/net", "--"]
    assert namespaces.enter_argv("/proc/42/ns/net", "/proc/7/ns/user") == [
        "nsenter", "--preserve-credentials", "--user=/proc/7/ns/user", "--net=/proc/42/ns/net",
        "--",
    ]  # fmt: skip
    for net, user in (("/proc/42/ns/user", None), ("/proc/42/ns/net", "/proc/7/ns/net"),
                      ("/proc/1/ns/net; rm -rf /", None), ("--mount=/x", None),
                      ("/tmp/ns/net", None)):  # fmt: skip
        with pytest.raises(ValueError, match="namespace path"):
            namespaces.enter_argv(net, user)
