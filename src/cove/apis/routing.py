"""Which resource of a deployment a request path reaches, as API Gateway matches it: a
literal part before a `{param}` part, which takes one segment; a `{proxy+}` part takes
the rest of the path (one segment or more); `ANY` answers any method the resource does
not define itself."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from cove.apis.model import Method, Resource


@dataclass(frozen=True)
class Matched:
    resource: Resource
    method: Method
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return [urllib.parse.unquote(s) for s in path.strip("/").split("/") if s]


def match(resources: tuple[Resource, ...], http_method: str, path: str) -> Matched | None:
    """The resource and method for `http_method path` (path relative to the stage)."""
    children: dict[str | None, list[Resource]] = {}
    for resource in resources:
        children.setdefault(resource.parent_id, []).append(resource)
    roots = children.get(None, [])
    if not roots:
        return None
    found = _walk(roots[0], _segments(path), children, {})
    if found is None:
        return None
    resource, params = found
    method = resource.methods.get(http_method.upper()) or resource.methods.get("ANY")
    if method is None:
        return None
    return Matched(resource, method, params)


def _walk(
    resource: Resource,
    rest: list[str],
    children: dict[str | None, list[Resource]],
    params: dict[str, str],
) -> tuple[Resource, dict[str, str]] | None:
    if not rest:
        return resource, params
    head = rest[0]
    kids = children.get(resource.id, [])
    # literal parts win over a variable one, which wins over a greedy one
    for kid in sorted(kids, key=lambda k: (k.variable is not None, k.is_greedy)):
        if kid.is_greedy:
            assert kid.variable is not None
            return kid, {**params, kid.variable: "/".join(rest)}
        if kid.variable is not None:
            found = _walk(kid, rest[1:], children, {**params, kid.variable: head})
        elif kid.path_part == head:
            found = _walk(kid, rest[1:], children, params)
        else:
            continue
        if found is not None:
            return found
    return None
