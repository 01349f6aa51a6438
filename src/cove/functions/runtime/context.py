"""The context object a Python handler gets, with the attributes and methods of Lambda's
(`LambdaContext` in awslambdaric's lambda_context.py; Lambda Developer Guide, "Using the
Lambda context object to retrieve Python function information"): the function's
identity read from the environment Lambda sets (so `memory_limit_in_mb` is a string, as
there), the invocation's request id, ARN and deadline. Standard library only."""

from __future__ import annotations

import os
import time
from typing import Any


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, found: dict[str, Any] | None = None) -> None:
        found = found or {}
        self.cognito_identity_id = found.get("cognitoIdentityId")
        self.cognito_identity_pool_id = found.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )

    def __init__(self, found: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, found.get(name))


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __init__(self, found: dict[str, Any]) -> None:
        self.custom = found.get("custom")
        self.env = found.get("env")
        client = found.get("client")
        self.client = Client(client) if isinstance(client, dict) else None


class LambdaContext:
    def __init__(
        self,
        request_id: str,
        invoked_function_arn: str,
        deadline_ms: int,
        client_context: dict[str, Any] | None = None,
        identity: dict[str, Any] | None = None,
    ) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.client_context = ClientContext(client_context) if client_context else None
        self.identity = CognitoIdentity(identity)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: object) -> None:
        print(message, end="", flush=True)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity}])"
        )
