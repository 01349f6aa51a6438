"""PublishVersion, ListVersionsByFunction, and aliases (Create/Get/List/Update/DeleteAlias)."""

from __future__ import annotations

from typing import Any

from cove.functions.names import parse_reference
from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.services.lambda_.context import LambdaContext
from cove.services.lambda_.shapes import alias_configuration, configuration

DEFAULT_PAGE = 50


def _page(items: list[Any], marker: str | None, limit: int | None) -> tuple[list[Any], str | None]:
    """A page of `items` after the position `marker` gives (it is an index, as text)."""
    start = int(marker) if marker and marker.isdigit() else 0
    end = start + (limit or DEFAULT_PAGE)
    return items[start:end], (str(end) if end < len(items) else None)


def _routing(params: dict[str, Any]) -> dict[str, float] | None:
    config = params.get("RoutingConfig")
    return None if config is None else dict(config.get("AdditionalVersionWeights") or {})


def handlers(lc: LambdaContext) -> dict[str, Handler]:
    store, arns = lc.store, lc.arns

    def name_of(params: dict[str, Any]) -> str:
        return parse_reference(params["FunctionName"]).name

    def publish_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        version = store.publish(
            name_of(params), params.get("Description"), params.get("CodeSha256"),
            params.get("RevisionId"),
        )  # fmt: skip
        return configuration(arns, version)

    def list_versions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        versions = [configuration(arns, v) for v in store.versions(name_of(params))]
        page, marker = _page(versions, params.get("Marker"), params.get("MaxItems"))
        return {"Versions": page, **({"NextMarker": marker} if marker else {})}

    def create_alias(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias = store.create_alias(
            name_of(params), params["Name"], params["FunctionVersion"],
            params.get("Description", ""), _routing(params),
        )  # fmt: skip
        return alias_configuration(arns, alias)

    def get_alias(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = name_of(params)
        store.version(name, "$LATEST")
        return alias_configuration(arns, store.alias(name, params["Name"]))

    def list_aliases(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = store.aliases(name_of(params), params.get("FunctionVersion"))
        page, marker = _page(
            [alias_configuration(arns, x) for x in found], params.get("Marker"),
            params.get("MaxItems"),
        )  # fmt: skip
        return {"Aliases": page, **({"NextMarker": marker} if marker else {})}

    def update_alias(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        alias = store.update_alias(
            name_of(params), params["Name"], params.get("FunctionVersion"),
            params.get("Description"), _routing(params), params.get("RevisionId"),
        )  # fmt: skip
        return alias_configuration(arns, alias)

    def delete_alias(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        store.delete_alias(name_of(params), params["Name"])
        return {}

    return {
        "PublishVersion": publish_version,
        "ListVersionsByFunction": list_versions,
        "CreateAlias": create_alias,
        "GetAlias": get_alias,
        "ListAliases": list_aliases,
        "UpdateAlias": update_alias,
        "DeleteAlias": delete_alias,
    }
