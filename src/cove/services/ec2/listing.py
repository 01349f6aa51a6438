"""What every Describe* call shares: the id list (each id must exist, else the kind's
NotFound), `Filters` (a resource matches when every filter has a value matching, `*` and
`?` as wildcards; `tag:<key>` and `tag-key` for every kind; an unknown filter name is
refused), and paging by MaxResults/NextToken (EC2 API reference, "List and filter using
the CLI and API": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Filtering.html)."""

from __future__ import annotations

import base64
import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from cove.errors import AwsError
from cove.network.failures import Failure, NetworkError
from cove.network.resources import Tag

R = TypeVar("R")
Values = Callable[[Any], Iterable[object]]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def select_ids(
    records: Sequence[R], ids: list[str] | None, id_of: Callable[[R], str], missing: Failure
) -> list[R]:
    if not ids:
        return list(records)
    by_id = {id_of(r): r for r in records}
    for wanted in ids:
        if wanted not in by_id:
            raise NetworkError(missing, id=wanted)
    return [r for r in records if id_of(r) in set(ids)]


def apply_filters(
    records: Iterable[R],
    filters: list[dict[str, Any]] | None,
    spec: Mapping[str, Values],
    tags_of: Callable[[R], tuple[Tag, ...]] | None = None,
) -> list[R]:
    checks: list[Callable[[R], bool]] = []
    for item in filters or []:
        name, wanted = item.get("Name", ""), [str(v) for v in item.get("Values", [])]
        checks.append(_check(name, wanted, spec, tags_of))
    return [r for r in records if all(check(r) for check in checks)]


def _check(
    name: str,
    wanted: list[str],
    spec: Mapping[str, Values],
    tags_of: Callable[[Any], tuple[Tag, ...]] | None,
) -> Callable[[Any], bool]:
    def matches(values: Iterable[object]) -> bool:
        texts = [_text(v) for v in values if v is not None]
        return any(fnmatch.fnmatchcase(text, pattern) for text in texts for pattern in wanted)

    if tags_of is not None and name.startswith("tag:"):
        key = name[4:]
        return lambda r: matches(t.value for t in tags_of(r) if t.key == key)
    if tags_of is not None and name == "tag-key":
        return lambda r: matches(t.key for t in tags_of(r))
    if tags_of is not None and name == "tag-value":
        return lambda r: matches(t.value for t in tags_of(r))
    values = spec.get(name)
    if values is None:
        raise AwsError("InvalidParameterValue", f"The filter '{name}' is invalid")
    return lambda r: matches(values(r))


def page(items: list[Any], params: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The page of `items` MaxResults and NextToken ask for, under `key`."""
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError:
            raise AwsError("InvalidNextToken", "The token is invalid") from None
    size = params.get("MaxResults")
    end = len(items) if not size else start + int(size)
    result: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        result["NextToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return result


def wire_tags(tags: Iterable[Tag]) -> list[dict[str, str]]:
    return [{"Key": t.key, "Value": t.value} for t in tags]


def requested_tags(params: Mapping[str, Any], resource_type: str) -> list[Tag]:
    """The tags TagSpecifications gives the resource a Create call makes."""
    found = []
    for spec in params.get("TagSpecifications") or []:
        if spec.get("ResourceType") not in (None, resource_type):
            raise AwsError(
                "InvalidParameterValue",
                f"'{spec.get('ResourceType')}' is not a valid taggable resource type for this "
                "operation.",
            )
        found += [Tag(t["Key"], t.get("Value", "")) for t in spec.get("Tags") or []]
    return found
