"""`GET /metrics`: the runtime's metrics in the Prometheus text format.

Prometheus cannot sign requests, so an unsigned scrape is accepted from a loopback
address (an operator on this host); from anywhere else the request must be SigV4-signed
like every other one.
"""

from __future__ import annotations

from cove.errors import AwsError
from cove.gateway.service import UNSIGNED, ServiceDefaults
from cove.http.messages import Request, Response
from cove.protocol.rest_errors import error_response
from cove.protocol.shapes import service_model
from cove.runtime.manager import LocalRuntime

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsService(ServiceDefaults):
    protocol = "rest-json"
    signing_names = (UNSIGNED, "sagemaker")  # a scrape, or a signed read from elsewhere
    anonymous_from_loopback = True

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        # errors shaped as SageMaker Runtime's (rest-json), the API beside it
        self.model = service_model("sagemaker-runtime")

    def claims(self, req: Request) -> bool:
        return req.method in ("GET", "HEAD") and req.path == PATH

    def error_response(self, err: AwsError, req: Request) -> Response:
        return error_response(self.model, err, req.context.request_id)

    async def handle(self, req: Request) -> Response:
        body = self.runtime.render_metrics().encode()
        return Response(200, [("Content-Type", CONTENT_TYPE)], body)
