"""`GET /metrics`: the runtime's metrics in the Prometheus text format.

Prometheus cannot sign requests, so an unsigned scrape is accepted from a loopback
address (an operator on this host); from anywhere else the request must be SigV4-signed
like every other one.
"""

from __future__ import annotations

from cove.gateway.messages import Request, Response
from cove.gateway.services import UNSIGNED, ServiceDefaults
from cove.protocol.errors import AwsError
from cove.runtime.api import rest_json_error
from cove.runtime.manager import LocalRuntime

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsService(ServiceDefaults):
    protocol = "rest-json"
    signing_names = (UNSIGNED, "sagemaker")  # a scrape, or a signed read from elsewhere
    anonymous_from_loopback = True

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime

    def claims(self, req: Request) -> bool:
        return req.method in ("GET", "HEAD") and req.path == PATH

    def error_response(self, err: AwsError, req: Request) -> Response:
        return rest_json_error(err, req.context.request_id)

    async def handle(self, req: Request) -> Response:
        body = self.runtime.render_metrics().encode()
        return Response(200, [("Content-Type", CONTENT_TYPE)], body)
