"""What one client may hold of the server: header sizes, timeouts, connections.

The defaults follow AWS's own front doors where they are documented: an Application Load
Balancer takes a request line and a single header of up to 16 KB and a whole request
header of up to 64 KB, and closes connections idle for 60 s (Elastic Load Balancing
User Guide, "Quotas for your Application Load Balancers" and "idle timeout"). S3 drops an
upload that sends nothing for about 20 s with `RequestTimeout`.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

# File descriptors kept back from client connections: the database, model-worker
# sockets, object files being written and log files need them too.
FD_RESERVE = 256


def fd_budget(reserve: int = FD_RESERVE) -> int:
    """How many client connections the process's file descriptor limit leaves room for."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 16
    return max(16, soft - reserve)


@dataclass(frozen=True)
class HttpLimits:
    max_request_line: int = 16 * 1024
    max_header_bytes: int = 64 * 1024  # request line and every header together
    max_headers: int = 100
    header_timeout: float = 20.0  # first byte of a request to the end of its headers
    body_timeout: float = 20.0  # longest wait for the next bytes of a body
    idle_timeout: float = 60.0  # keep-alive connection with no request in flight
    max_connections_per_client: int = 256
    max_connections: int = 4096  # lowered to the fd budget when the server starts

    def within_fds(self) -> HttpLimits:
        budget = fd_budget()
        if self.max_connections <= budget:
            return self
        return HttpLimits(**{**self.__dict__, "max_connections": budget})
