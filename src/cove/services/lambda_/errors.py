"""Function-store failures as Lambda answers them: codes and statuses from the Lambda API
reference (each action's Errors section), texts as Lambda sends them (quoted in the
tests that pin them, with where they were seen)."""

from __future__ import annotations

from dataclasses import dataclass

from cove.errors import AwsError
from cove.functions.failures import Failure as F
from cove.functions.failures import FunctionError


@dataclass(frozen=True)
class WireError:
    code: str
    status: int
    message: str  # formatted with the failure's details


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message)


def _invalid(message: str) -> WireError:
    return WireError("InvalidParameterValueException", 400, message)


def _missing(message: str) -> WireError:
    return WireError("ResourceNotFoundException", 404, message)


def _conflict(message: str) -> WireError:
    return WireError("ResourceConflictException", 409, message)


_BUSY = "The operation cannot be performed at this time."

WIRE_ERRORS: dict[F, WireError] = {
    F.FUNCTION_NOT_FOUND: _missing("Function not found: {arn}"),
    F.FUNCTION_EXISTS: _conflict("Function already exist: {name}"),
    F.ALIAS_NOT_FOUND: _missing("Alias not found: {arn}"),
    F.ALIAS_EXISTS: _conflict("Alias already exists: {arn}"),
    F.VERSION_IN_USE: _conflict(
        "Unable to delete version because the following aliases reference it: [{aliases}]"
    ),
    F.LATEST_NOT_DELETABLE: _invalid(
        "$LATEST version cannot be deleted without deleting the function."
    ),
    F.INVALID_QUALIFIER: _invalid(
        "The derived qualifier from the function name does not match the specified qualifier."
    ),
    F.NOT_READY: _conflict(f"{_BUSY} The function is currently in the following state: {{state}}"),
    F.UPDATE_IN_PROGRESS: _conflict(f"{_BUSY} An update is in progress for resource: {{arn}}"),
    F.BAD_ZIP: _invalid(
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    ),
    F.UNZIPPED_TOO_LARGE: _invalid("Unzipped size must be smaller than {limit} bytes"),
    F.SHA_MISMATCH: _invalid(
        "CodeSHA256 ({given}) is different from current CodeSHA256 in $LATEST ({current}). "
        "Please try again with the CodeSHA256 in $LATEST."
    ),
    F.STATEMENT_EXISTS: _conflict(
        "The statement id ({sid}) provided already exists. Please provide a new statement "
        "id, or remove the existing statement."
    ),
    F.STATEMENT_NOT_FOUND: _missing("Statement {sid} is not found in resource policy."),
    F.NO_POLICY: _missing("The resource you requested does not exist."),
    F.INVALID_PRINCIPAL: _invalid(
        "The provided principal was invalid. Please check the principal and try again."
    ),
    F.REVISION_MISMATCH: WireError(
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    ),
    F.SUBNET_NOT_FOUND: _invalid(
        "Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
        "EC2 Error Message: The subnet ID '{id}' does not exist"
    ),
    F.GROUP_NOT_FOUND: _invalid(
        "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
        "EC2 Error Message: The security group '{id}' does not exist"
    ),
    F.VPC_MISMATCH: _invalid("Security Groups are required to be in the same VPC."),
    F.VPC_GROUPS_MISSING: _invalid("SubnetIds and SecurityIds must coexist or be both empty list."),
}


def function_error(exc: FunctionError) -> AwsError:
    wire = WIRE_ERRORS[exc.failure]
    return AwsError(wire.code, wire.message.format(**exc.details), wire.status)
