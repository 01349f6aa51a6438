"""CreateFunction, GetFunction(Configuration), ListFunctions, UpdateFunctionCode,
UpdateFunctionConfiguration, DeleteFunction."""

from __future__ import annotations

from typing import Any

from cove.functions.model import FunctionConfig
from cove.functions.names import LATEST, parse_reference
from cove.functions.vpc import checked_vpc
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.services.lambda_.code import package
from cove.services.lambda_.context import SUPPORTED_RUNTIME, LambdaContext
from cove.services.lambda_.errors import invalid
from cove.services.lambda_.roles import check_role
from cove.services.lambda_.shapes import configuration

DEFAULT_PAGE = 50  # ListFunctions' MaxItems when not given


def check_runtime(runtime: str | None) -> str:
    """Cove runs Python on its own interpreter; every other runtime is refused with the
    text Lambda refuses a runtime it no longer supports with."""
    if runtime is None:
        raise invalid(
            "Runtime and Handler are mandatory parameters for functions created with "
            "deployment packages."
        )
    if runtime != SUPPORTED_RUNTIME:
        raise invalid(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            f"updating AWS Lambda functions. We recommend you use the new runtime "
            f"({SUPPORTED_RUNTIME}) while creating or updating functions."
        )
    return runtime


def _vpc(lc: LambdaContext, given: dict[str, Any]) -> Any:
    return checked_vpc(
        lc.network, list(given.get("SubnetIds", [])), list(given.get("SecurityGroupIds", []))
    )


def _environment(params: dict[str, Any]) -> dict[str, str]:
    return dict((params.get("Environment") or {}).get("Variables") or {})


def handlers(lc: LambdaContext) -> dict[str, Handler]:
    store, arns = lc.store, lc.arns

    def _name(params: dict[str, Any]) -> str:
        ref = parse_reference(params["FunctionName"])
        if ref.qualifier is not None:
            raise invalid("Unqualified function name expected; found a qualifier.")
        return ref.name

    async def create_function(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _name(params)
        runtime = check_runtime(params.get("Runtime"))
        if (params.get("PackageType") or "Zip") != "Zip":
            raise invalid("Cove runs .zip deployment packages only.")
        if not params.get("Handler"):
            check_runtime(None)
        check_role(lc, ctx, params["Role"])
        config = FunctionConfig(
            runtime=runtime,
            handler=params["Handler"],
            role=params["Role"],
            description=params.get("Description", ""),
            timeout=params.get("Timeout", 3),
            memory_size=params.get("MemorySize", 128),
            environment=_environment(params),
            vpc=_vpc(lc, params.get("VpcConfig") or {}),
            architectures=tuple(params.get("Architectures") or ("x86_64",)),
            ephemeral_storage=(params.get("EphemeralStorage") or {}).get("Size", 512),
        )
        version = store.create(name, config, package(lc, ctx, params["Code"]))
        if params.get("Publish"):
            await lc.settle(name)  # a version is published from an Active function
            return configuration(arns, store.publish(name))
        lc.background(lc.settle(name))
        return configuration(arns, version)

    def get_function(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version, _ = store.resolve(parse_reference(params["FunctionName"], params.get("Qualifier")))
        location = lc.code_urls.url(ctx, version.name, version.code.key)
        return {
            "Configuration": configuration(arns, version),
            "Code": {"RepositoryType": "S3", "Location": location},
        }

    def get_function_configuration(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = parse_reference(params["FunctionName"], params.get("Qualifier"))
        return configuration(arns, store.resolve(ref)[0])

    def list_functions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        every = params.get("FunctionVersion") == "ALL"
        limit = params.get("MaxItems") or DEFAULT_PAGE
        versions, marker = store.list(params.get("Marker"), limit, all_versions=every)
        out: dict[str, Any] = {"Functions": [configuration(arns, v) for v in versions]}
        if marker is not None:
            out["NextMarker"] = marker
        return out

    async def update_function_code(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _name(params)
        store.version(name, LATEST)  # an unknown function before the package is read
        code = package(lc, ctx, params)
        if params.get("DryRun"):
            return configuration(arns, store.version(name, LATEST))
        version = store.update_code(name, code, params.get("RevisionId"))
        if params.get("Publish"):
            await lc.settle(name)
            return configuration(arns, store.publish(name))
        lc.background(lc.settle(name))
        return configuration(arns, version)

    def update_function_configuration(
        ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = _name(params)
        store.version(name, LATEST)
        changes: dict[str, Any] = {}
        if "Runtime" in params:
            changes["runtime"] = check_runtime(params["Runtime"])
        if "Role" in params:
            check_role(lc, ctx, params["Role"])
            changes["role"] = params["Role"]
        simple = {"Handler": "handler", "Description": "description", "Timeout": "timeout",
                  "MemorySize": "memory_size"}  # fmt: skip
        changes |= {field: params[member] for member, field in simple.items() if member in params}
        if "Environment" in params:
            changes["environment"] = _environment(params)
        if "VpcConfig" in params:
            changes["vpc"] = _vpc(lc, params["VpcConfig"] or {})
        if "EphemeralStorage" in params:
            changes["ephemeral_storage"] = params["EphemeralStorage"]["Size"]
        version = store.update_config(name, changes, params.get("RevisionId"))
        lc.background(lc.settle(name))
        return configuration(arns, version)

    async def delete_function(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = parse_reference(params["FunctionName"], params.get("Qualifier"))
        store.delete(ref.name, ref.qualifier)
        if lc.runtime is not None:
            await lc.runtime.retire(arns.function(ref.name))
        return {"StatusCode": 204}

    return {
        "CreateFunction": create_function,
        "GetFunction": get_function,
        "GetFunctionConfiguration": get_function_configuration,
        "ListFunctions": list_functions,
        "UpdateFunctionCode": update_function_code,
        "UpdateFunctionConfiguration": update_function_configuration,
        "DeleteFunction": delete_function,
    }
