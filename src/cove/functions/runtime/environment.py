"""The environment a function's code runs with, as Lambda defines it (Lambda Developer
Guide, "Defined runtime environment variables"): the reserved variables, which a
function's own Environment cannot replace, and the unreserved defaults it can.

Reserved: _HANDLER, AWS_REGION, AWS_DEFAULT_REGION, AWS_EXECUTION_ENV
(`AWS_Lambda_<runtime>`), AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_INITIALIZATION_TYPE (`on-demand`),
AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (the execution role's temporary keys, set
directly), LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, TZ (`:UTC`). Unreserved: LANG
(`en_US.UTF-8`). Cove adds AWS_ENDPOINT_URL, so that boto3 and the AWS CLI inside reach
Cove; a function may set its own. No AWS_LAMBDA_RUNTIME_API (there is no runtime API
server: the bootstrap is in-process) and no _X_AMZN_TRACE_ID (no X-Ray)."""

from __future__ import annotations

from dataclasses import dataclass

from cove.functions.contracts import FunctionSpec
from cove.identity.sessions import Session


@dataclass(frozen=True)
class Placement:
    """Where the worker finds things, inside its sandbox."""

    task_root: str  # the code, read-only (Lambda's /var/task)
    runtime_dir: str  # the bootstrap's own code
    log_group: str
    log_stream: str


def function_environment(
    spec: FunctionSpec,
    place: Placement,
    session: Session | None,
    endpoint_url: str,
    region: str,
) -> dict[str, str]:
    env = {"LANG": "en_US.UTF-8", "AWS_ENDPOINT_URL": endpoint_url}
    env.update(spec.environment)
    env.update(
        _HANDLER=spec.handler,
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_EXECUTION_ENV=f"AWS_Lambda_{spec.runtime}",
        AWS_LAMBDA_FUNCTION_NAME=spec.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(spec.memory_mb),
        AWS_LAMBDA_FUNCTION_VERSION=spec.version,
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
        AWS_LAMBDA_LOG_GROUP_NAME=place.log_group,
        AWS_LAMBDA_LOG_STREAM_NAME=place.log_stream,
        LAMBDA_TASK_ROOT=place.task_root,
        LAMBDA_RUNTIME_DIR=place.runtime_dir,
        TZ=":UTC",
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)  # reserved: never the function's own
    if session is not None:
        env.update(
            AWS_ACCESS_KEY_ID=session.access_key_id,
            AWS_SECRET_ACCESS_KEY=session.secret,
            AWS_SESSION_TOKEN=session.token,
        )
    return env
