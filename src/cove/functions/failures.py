"""Why a function-store call failed, typed; the Lambda front end turns each into Lambda's
wire error (code, status, text) in one table (cove.services.lambda_.errors)."""

from __future__ import annotations

from enum import Enum, auto


class Failure(Enum):
    FUNCTION_NOT_FOUND = auto()  # arn: the (qualified) function ARN asked for
    FUNCTION_EXISTS = auto()  # name
    ALIAS_NOT_FOUND = auto()  # arn
    ALIAS_EXISTS = auto()  # arn
    VERSION_IN_USE = auto()  # aliases: the aliases that point at the version
    LATEST_NOT_DELETABLE = auto()
    INVALID_QUALIFIER = auto()  # qualifier
    NOT_READY = auto()  # state: the function's state (Pending) while it is created
    UPDATE_IN_PROGRESS = auto()  # arn
    BAD_ZIP = auto()
    UNZIPPED_TOO_LARGE = auto()  # limit
    SHA_MISMATCH = auto()  # given, current
    STATEMENT_EXISTS = auto()  # sid
    STATEMENT_NOT_FOUND = auto()  # sid
    NO_POLICY = auto()
    INVALID_PRINCIPAL = auto()
    REVISION_MISMATCH = auto()
    SUBNET_NOT_FOUND = auto()  # id
    GROUP_NOT_FOUND = auto()  # id
    VPC_MISMATCH = auto()  # detail
    VPC_GROUPS_MISSING = auto()


class FunctionError(Exception):
    """`failure` says what went wrong; `details` name what was involved."""

    def __init__(self, failure: Failure, **details: str) -> None:
        super().__init__(f"{failure.name} {details}")
        self.failure = failure
        self.details = details
