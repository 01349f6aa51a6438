"""Hostile model code against a real server: every read, write and escape that owned the
server before the sandbox is tried again from inside a deployed model, which answers
what it got. Finding: "Model code owns the server" (issue "Contain untrusted model code").

SageMaker runs each model in its own container with no view of the platform's secrets
("How SageMaker hosting services run your inference image", SageMaker Developer Guide);
Cove's answer is a bubblewrap sandbox per instance with a cgroup."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import memory_cgroup_limit
from models import SKLEARN_IMAGE, breast_cancer, csv_rows, delete, deploy, pack, sklearn_model
from models import upload as upload_model

X, _ = breast_cancer()
OPERATOR_SECRET = "operator-secret-never-in-a-sandbox"
ORPHAN_MARKER = "cove-orphan-marker-3141"

ATTACKER = r'''
import json, os, resource, signal, subprocess, sys, time

def attempt(fn):
    try:
        value = fn()
        return {"ok": True, "value": repr(value)[:300]}
    except BaseException as exc:
        return {"ok": False, "error": type(exc).__name__}

def reads():
    d = os.environ["ATTACK_DATA_DIR"]
    pid = int(os.environ["ATTACK_SERVER_PID"])
    victim = os.environ.get("ATTACK_VICTIM_FILE", "/nonexistent")
    secret = os.environ["ATTACK_SECRET"].encode()
    status = open("/proc/self/status").read()
    return {
        "credentials": attempt(lambda: open(d + "/credentials.json").read()),
        "database": attempt(lambda: open(d + "/cove.db", "rb").read(16)),
        "objects": attempt(lambda: os.listdir(d + "/objects")),
        "models": attempt(lambda: os.listdir(d + "/models")),
        "data_dir": attempt(lambda: os.listdir(d)),
        "server_environ": attempt(lambda: open(f"/proc/{pid}/environ", "rb").read()),
        "server_mem": attempt(lambda: open(f"/proc/{pid}/mem", "rb").read(1)),
        "signal_server": attempt(lambda: os.kill(pid, 0)),
        "rewrite_victim": attempt(lambda: open(victim, "w").write("print('pwned')")),
        "rewrite_own_model": attempt(
            lambda: open("/opt/ml/model/code/inference.py", "a").write("#")),
        "root_home": attempt(lambda: os.listdir("/root")),
        "init_environ": attempt(lambda: secret in open("/proc/1/environ", "rb").read()),
        "aws_secret": os.environ.get("AWS_SECRET_ACCESS_KEY"),
        "tmp": os.listdir("/tmp"),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "uid": os.getuid(),
        "cap_eff": status.split("CapEff:")[1].split()[0],
        "no_new_privs": status.split("NoNewPrivs:")[1].split()[0],
    }

def fork_past_memory():
    # raise our own limits as far as the kernel lets us, then fork past the memory
    for res in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        soft, hard = resource.getrlimit(res)
        resource.setrlimit(res, (hard, hard))
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            block = bytearray(int(2.5 * 1024**3))  # zero-filled: every page is touched
            time.sleep(3)
            os._exit(0 if block else 1)
        children.append(pid)
    return [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in children]

def fork_bomb():
    children, error = [], None
    try:
        while len(children) < 5000:
            pid = os.fork()
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children.append(pid)
    except OSError as exc:
        error = type(exc).__name__
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return {"forked": len(children), "error": error}

def orphan():
    proc = subprocess.Popen(
        ["setsid", sys.executable, "-c", "import time; time.sleep(600)",
         os.environ["ATTACK_MARKER"]],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    return {"pid": proc.pid}

AT_LOAD = {}

def model_fn(model_dir):
    # what a malicious pickle could do while model.joblib loads
    AT_LOAD.update(reads())
    import joblib
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def transform_fn(model, data, content_type, accept):
    action = data.decode() if isinstance(data, bytes) else str(data)
    result = {"reads": reads, "memory": fork_past_memory, "fork-bomb": fork_bomb,
              "orphan": orphan, "at-load": lambda: AT_LOAD}[action]()
    return json.dumps(result)
'''

VICTIM = """
def predict_fn(data, model):
    return ["victim-ok"] * len(data)
"""


def live_processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z" and b"bwrap" not in cmdline:
            found.append(int(proc.name))
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A server whose environment holds an operator secret, a victim endpoint, and an
    attacker endpoint told where everything is."""
    from conftest import CoveServer, free_port

    root = tmp_path_factory.mktemp("hostile")
    srv = CoveServer(
        root / "data", free_port(),
        {"AWS_SECRET_ACCESS_KEY": OPERATOR_SECRET, "COVE_MODEL_TIMEOUT": "60"},
    ).start()
    try:
        victim_model = upload_model(srv, pack(sklearn_model(root / "v", VICTIM)))
        victim = deploy(srv, SKLEARN_IMAGE, victim_model)
        victim_file = next((srv.data_dir / "models").glob("*/code/inference.py"))
        env = {
            "ATTACK_DATA_DIR": str(srv.data_dir),
            "ATTACK_SERVER_PID": str(srv.proc.pid),
            "ATTACK_VICTIM_FILE": str(victim_file),
            "ATTACK_SECRET": OPERATOR_SECRET,
            "ATTACK_MARKER": ORPHAN_MARKER,
        }
        attacker = deploy(
            srv, SKLEARN_IMAGE, upload_model(srv, pack(sklearn_model(root / "a", ATTACKER))),
            environment=env,
            variants=[{"VariantName": "AllTraffic", "InstanceType": "ml.t2.medium"}],
        )
        yield srv, victim, attacker
    finally:
        srv.stop()


def attack(srv, endpoint: str, action: str) -> dict:
    rt = srv.client("sagemaker-runtime")
    resp = rt.invoke_endpoint(EndpointName=endpoint, Body=action, ContentType="text/plain")
    return json.loads(resp["Body"].read())


@pytest.mark.parametrize("when", ["reads", "at-load"])
def test_model_code_reaches_none_of_the_server(hostile, when: str) -> None:
    srv, victim, attacker = hostile
    got = attack(srv, attacker, when)
    for what in ("credentials", "database", "objects", "models", "data_dir", "server_environ",
                 "server_mem", "rewrite_victim", "rewrite_own_model"):
        assert not got[what]["ok"], (what, got[what])
    # the data dir is an empty tmpfs inside, or not there at all
    assert got["data_dir"]["error"] in ("FileNotFoundError", "PermissionError")
    assert got["signal_server"] == {"ok": False, "error": "ProcessLookupError"}
    assert got["rewrite_own_model"]["error"] == "OSError"  # read-only file system
    assert not got["root_home"]["ok"] or ".aws" not in got["root_home"]["value"]
    assert got["aws_secret"] is None  # the operator's secret stays in the server's env
    assert got["init_environ"] in ({"ok": False, "error": "PermissionError"},
                                   {"ok": True, "value": "False"})
    assert not any(name.startswith("cove-sockets") for name in got["tmp"])
    assert max(got["pids"]) < 50, got["pids"]  # its own PID namespace: a handful of pids
    assert got["uid"] == 65534 and int(got["cap_eff"], 16) == 0 and got["no_new_privs"] == "1"
    # the victim still answers its own model's text
    rt = srv.client("sagemaker-runtime")
    body = rt.invoke_endpoint(EndpointName=victim, Body=csv_rows(X[:1]), ContentType="text/csv")
    assert json.loads(body["Body"].read()) == ["victim-ok"]


def test_memory_limit_holds_for_children_that_raised_their_rlimits(hostile) -> None:
    srv, _, attacker = hostile
    statuses = attack(srv, attacker, "memory")
    # 2 x 2.5 GiB does not fit the 4 GiB of an ml.t2.medium: the kernel kills one
    assert -9 in statuses, statuses


def test_process_count_is_capped(hostile) -> None:
    srv, _, attacker = hostile
    got = attack(srv, attacker, "fork-bomb")
    assert got["error"] == "BlockingIOError" and got["forked"] < 1024, got


def test_children_die_with_the_endpoint_even_after_setsid(hostile) -> None:
    srv, _, attacker = hostile
    attack(srv, attacker, "orphan")
    deadline = time.time() + 10
    while not live_processes_with(ORPHAN_MARKER) and time.time() < deadline:
        time.sleep(0.1)
    assert live_processes_with(ORPHAN_MARKER), "the orphan never started"
    pids = {p for p in live_processes_with("cove.instance.worker")}
    assert pids and all(memory_cgroup_limit(p) for p in pids)
    delete(srv, attacker)
    deadline = time.time() + 30
    while live_processes_with(ORPHAN_MARKER) and time.time() < deadline:
        time.sleep(0.2)
    assert live_processes_with(ORPHAN_MARKER) == []
