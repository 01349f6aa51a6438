"""Which operation of a rest-json / rest-xml service a request calls, from the model alone.

Every operation's `http.requestUri` is a template: literal path text, `{Label}` (one path
segment) and `{Label+}` (greedy: the rest of the path, slashes included), and optionally
`?key` / `?key=value` literals that the request's query must carry (S3's `?uploads`,
`?list-type=2`). Several operations can match one request (S3's `GET /{Bucket}` and
`GET /{Bucket}?acl`); the most specific wins, in this order:

1. more literal path segments (a literal beats a label);
2. more literal query keys from the template;
3. the operation the request names in `x-id`: the AWS SDKs generated from Smithy models
   (JavaScript v3, Rust, ...) add `?x-id=<Operation>` where S3 operations share a path
   (`GET /?x-id=ListDirectoryBuckets`); botocore's model has no such literal, and a
   request without it is routed by the rules around it;
4. more *required* query or header members present in the request: the model's way to
   tell apart operations that share a template (ListParts needs `uploadId` where
   GetObject does not; CopyObject needs `x-amz-copy-source` where PutObject does not);
5. fewer required members missing (GetObject, needing none, beats ListParts without
   `uploadId`);
6. an operation the model does not mark deprecated (GetBucketLifecycleConfiguration over
   GetBucketLifecycle, whose wire form is the same);
7. the operation's name, so the choice is stable.

Required members rank but never exclude: a call that omits one is routed and then
fails validation, as AWS answers it, rather than looking like an unknown path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel

_LABEL = re.compile(r"\{([^}]+)\}")

Query = Mapping[str, Sequence[str]]


def parse_query(raw: str) -> dict[str, list[str]]:
    """A raw query string as key -> every value, in order; `?uploads` gives {"uploads": [""]}.

    botocore percent-encodes spaces as %20 and '+' as %2B, so decoding '+' as a space (as
    forms do) loses nothing a client meant."""
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    return query


@dataclass(frozen=True)
class RouteMatch:
    operation: OperationModel
    labels: dict[str, str]  # template label (without '+') -> percent-decoded value


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    pattern: re.Pattern[str]
    labels: tuple[str, ...]  # regex group i+1 -> label name
    literal_query: tuple[tuple[str, str | None], ...]  # None: any value
    wanted_query: frozenset[str]  # required querystring members' wire names
    wanted_headers: frozenset[str]  # required header members' names, lower-cased
    literal_segments: int


def _compile_path(path: str) -> tuple[re.Pattern[str], tuple[str, ...], int]:
    """The path template as a regex over the raw (still percent-encoded) path.

    A trailing slash is optional on both sides (`/bucket/` is the bucket, as S3 takes it);
    a label matches at least one character, so `/{Bucket}/{Key+}` never takes `/bucket/`."""
    if path != "/":
        path = path.rstrip("/")
    parts: list[str] = []
    labels: list[str] = []
    end = 0
    for label in _LABEL.finditer(path):
        parts.append(re.escape(path[end : label.start()]))
        name = label.group(1)
        greedy = name.endswith("+")
        labels.append(name.rstrip("+"))
        parts.append("(.+)" if greedy else "([^/]+)")
        end = label.end()
    parts.append(re.escape(path[end:]))
    regex = "".join(parts) + ("" if path == "/" else "/?")
    segments = [s for s in path.split("/") if s]
    literal = sum(1 for s in segments if "{" not in s)
    return re.compile(regex), tuple(labels), literal


def literal_query(query: str) -> tuple[tuple[str, str | None], ...]:
    """A template's query part (`select&select-type=2`) as (key, value) pairs; the value
    None where the template names the key alone, which then may carry any value."""
    pairs: list[tuple[str, str | None]] = []
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        pairs.append((unquote(key), unquote(value) if eq else None))
    return tuple(pairs)


def _route(operation: OperationModel) -> _Route:
    path, _, query = operation.http["requestUri"].partition("?")
    pattern, labels, literal = _compile_path(path)
    wanted_query: set[str] = set()
    wanted_headers: set[str] = set()
    shape = operation.input_shape
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "querystring" and member.type_name != "map":
                wanted_query.add(wire)
            elif location == "header":
                wanted_headers.add(wire.lower())
    return _Route(
        operation,
        pattern,
        labels,
        # A model that writes `?x-id=<Operation>` into its templates (as Smithy-generated
        # SDKs' do) must not make x-id required: clients without it are routed as S3
        # routes them, and rule 3 still honours the x-id of those that send it.
        tuple(pair for pair in literal_query(query) if pair[0] != "x-id"),
        frozenset(wanted_query),
        frozenset(wanted_headers),
        literal,
    )


class RestRouter:
    """Built once per service model; `match` is then a scan of that method's routes."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self._routes: dict[str, list[_Route]] = {}
        # By name, so that of equally specific routes the first (by name) is kept below.
        for name in sorted(model.operation_names):
            operation = model.operation_model(name)
            method = operation.http.get("method", "POST").upper()
            self._routes.setdefault(method, []).append(_route(operation))

    def match(
        self,
        method: str,
        path: str,
        query: Query,
        headers: Mapping[str, str] | None = None,
        strict: bool = False,
    ) -> RouteMatch | None:
        """The operation `method path?query` calls, or None for a path no template fits.

        `path` is raw (percent-encoded), `query` as `parse_query` gives it, `headers` with
        lower-cased names (or None: then operations that require a header rank below
        those that do not). `strict`: only operations whose required query and header
        members are all present (S3 tells PutObject from a stray `?partNumber` so)."""
        present = headers or {}
        named = query.get("x-id", ())
        best: tuple[tuple[int, ...], _Route, re.Match[str]] | None = None
        for route in self._routes.get(method.upper(), ()):
            found = route.pattern.fullmatch(path)
            if found is None or not _has_literals(route, query):
                continue
            satisfied = sum(1 for key in route.wanted_query if key in query)
            satisfied += sum(1 for name in route.wanted_headers if name in present)
            missing = len(route.wanted_query) + len(route.wanted_headers) - satisfied
            if strict and missing:
                continue
            rank = (
                route.literal_segments,
                len(route.literal_query),
                int(route.operation.name in named),
                satisfied,
                -missing,
                int(not route.operation.deprecated),
            )
            if best is None or rank > best[0]:
                best = (rank, route, found)
        if best is None:
            return None
        _, route, found = best
        labels = {name: unquote(found.group(i)) for i, name in enumerate(route.labels, 1)}
        return RouteMatch(route.operation, labels)


def _has_literals(route: _Route, query: Query) -> bool:
    for key, value in route.literal_query:
        values = query.get(key)
        if values is None or (value is not None and value not in values):
            return False
    return True
