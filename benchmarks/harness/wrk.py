"""Drive one server with wrk: a fixed request replayed over N keep-alive connections.

The request (method, path, headers, body) is written into a Lua script; its `done` hook
prints the results as one JSON line, latency percentiles included.
"""

from __future__ import annotations

import json
import resource
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness.procs import CLIENT_CPU

MARKER = "WRK_RESULT "

_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    MARKER, summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    host: str = "127.0.0.1"
    port: int = 0
    scheme: str = "http"
    # argv prefix that runs the client elsewhere (`cove exec ... --`: a host in a VPC)
    enter: tuple[str, ...] = ()
    # the Host header's name when it is not the address connected to (an invoke URL)
    name: str | None = None

    @property
    def host_header(self) -> str:
        """Host as the client signed it: without the port when it is the scheme's own."""
        default = {"http": 80, "https": 443}[self.scheme]
        name = self.name or self.host
        return name if self.port in (0, default) else f"{name}:{self.port}"

    @property
    def url(self) -> str:
        """What wrk connects to (the Host header it sends may name another host)."""
        default = {"http": 80, "https": 443}[self.scheme]
        where = self.host if self.port in (0, default) else f"{self.host}:{self.port}"
        return f"{self.scheme}://{where}{self.path}"


@dataclass
class WrkResult:
    requests: int
    duration_us: int
    non_2xx: int
    socket_errors: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        """Successful requests per second: an error never counts as throughput."""
        good = self.requests - self.non_2xx
        return good / (self.duration_us / 1e6) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def _lua_string(value: str | bytes) -> str:
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch.isprintable() and ord(ch) < 128:
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):03d}")  # Lua decimal escape, byte-exact
    return '"' + "".join(out) + '"'


def lua_script(req: HttpRequest) -> str:
    lines = [f"MARKER = {_lua_string(MARKER)}", f"wrk.method = {_lua_string(req.method)}",
             f"wrk.body = {_lua_string(req.body)}"]
    # wrk sends exactly these headers; Host is set explicitly because SigV4 signs it.
    headers = {"Host": req.host_header, **req.headers}
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + _DONE_HOOK


def run(req: HttpRequest, connections: int, seconds: float, script_path: Path,
        timeout_s: int = 10) -> WrkResult:
    script_path.write_text(lua_script(req))
    cmd = [*req.enter, "taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", f"-c{connections}",
           f"-d{max(1, round(seconds))}s", f"--timeout={timeout_s}s", "-s", str(script_path),
           req.url]
    before = _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            result = WrkResult(**json.loads(line[len(MARKER):]))
            result.extra["wrk_cpu_s"] = _children_cpu() - before
            return result
    raise RuntimeError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
