"""The CloudWatch Logs API on the json 1.1 frame, over the log store."""

from __future__ import annotations

from cove.gateway.json_service import JsonRpcService
from cove.iam.policy import Authorizer
from cove.services.logs.arns import Arns
from cove.services.logs.errors import INVALID, logs_error
from cove.services.logs.handlers import handlers
from cove.storage.log_events import LogEvents, LogsError


def logs_service(store: LogEvents, access: Authorizer, region: str, account: str) -> JsonRpcService:
    arns = Arns(region, account)
    return JsonRpcService(
        "logs",
        handlers(store, arns),
        failures={LogsError: logs_error},
        authorizer=access,
        resource_of=arns.resource_of,
        # a model constraint broken: "1 validation error detected: Value 'a:b' at
        # 'logGroupName' failed to satisfy constraint: ..." as InvalidParameterException
        validation_code=INVALID,
    )
