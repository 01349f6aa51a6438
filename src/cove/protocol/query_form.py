"""Form parameters (`Action=...&Tags.member.1.Key=...`) to an operation and its input,
shared by the query and ec2 protocols.

The two protocols flatten the same input shapes into dotted parameter names and differ
only in how a member, a list item and a map's key and value are named on the wire;
subclasses of FormReader say that, from the shapes' serialization traits.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from cove.errors import AwsError
from cove.protocol.query_scalars import from_text, shown

# Parameters every request may carry besides the operation's input: the action and API
# version, and the signature of a presigned (query-string authenticated) request.
ENVELOPE = frozenset({
    "Action", "Version",
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
    "AWSAccessKeyId", "SignatureMethod", "SignatureVersion", "Signature", "Timestamp",
    "Expires", "SecurityToken",
})  # fmt: skip

# A form bigger than this is refused before any of it is decoded into a tree.
MAX_PARAMS = 100_000
# No AWS parameter name is nested this deep (EC2's deepest have about ten segments);
# the cap bounds the recursion that walks a name's segments.
MAX_SEGMENTS = 32
# List and map positions count from 1, written without leading zeros (botocore's
# enumerate(value, 1)): "01" would otherwise be a second name for item 1. Below a billion,
# so int() never meets the thousands of digits it refuses.
_INDEX = re.compile(r"[1-9][0-9]{0,8}")


def malformed(message: str) -> AwsError:
    """The Common Errors page documents MalformedQueryString with HTTP status 404."""
    return AwsError("MalformedQueryString", message, 404)


def missing_parameter(param: str) -> AwsError:
    return AwsError("MissingParameter", f"The request must contain the parameter {param}")


def form_pairs(query: str, body: bytes) -> list[tuple[str, str]]:
    """The parameters of a GET's query string or a POST's form body (AWS reads both)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("The request body is not UTF-8") from None
    pairs: list[tuple[str, str]] = []
    for part in (query, text):
        if not part:
            continue
        try:
            pairs += parse_qsl(
                part, keep_blank_values=True, errors="strict", max_num_fields=MAX_PARAMS
            )
        except (ValueError, UnicodeDecodeError) as exc:  # too many fields, bad %-escapes
            raise malformed(f"The query string is malformed: {exc}") from None
    if len(pairs) > MAX_PARAMS:
        raise malformed("The request has too many parameters")
    return pairs


class _Node:
    """One dotted name segment: the value given for it, and the segments below it."""

    __slots__ = ("value", "children", "used")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Node] = {}
        self.used = False

    def take(self) -> str | None:
        self.used = self.value is not None
        return self.value


def _tree(pairs: Iterable[tuple[str, str]]) -> _Node:
    root = _Node()
    for name, value in pairs:
        parts = name.split(".")
        if len(parts) > MAX_SEGMENTS:
            raise malformed(f"The parameter name {shown(name)} is nested too deeply")
        node = root
        for part in parts:
            node = node.children.setdefault(part, _Node())
        if node.value is not None:
            raise malformed(f"The parameter {shown(name)} is given more than once")
        node.value = value
    return root


def _unused(node: _Node, path: str) -> Iterator[str]:
    if node.value is not None and not node.used:
        yield path
    for part, child in node.children.items():
        yield from _unused(child, f"{path}.{part}" if path else part)


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


class FormReader(ABC):
    """Reads an operation's input by walking its shape over the parameter tree; whatever
    the walk leaves untouched is a parameter the operation does not have."""

    @abstractmethod
    def wire_name(self, shape: Shape, default: str) -> str:
        """The name a member, map key or map value goes by on the wire."""

    def member_key(self, name: str, shape: Shape) -> str:
        """The segment of structure member `name`."""
        return self.wire_name(shape, name)

    @abstractmethod
    def list_item_key(self, shape: ListShape) -> str | None:
        """The segment between a list and its item numbers (`member`), or None."""

    @abstractmethod
    def unknown_parameter(self, param: str) -> AwsError:
        """The protocol's error for a parameter the operation does not have."""

    def parse_request(
        self, model: ServiceModel, query: str, body: bytes
    ) -> tuple[OperationModel, dict[str, Any]]:
        """The operation a request names and its input, from query string and form body."""
        return self.parse(model, form_pairs(query, body))

    def parse(
        self, model: ServiceModel, pairs: Iterable[tuple[str, str]]
    ) -> tuple[OperationModel, dict[str, Any]]:
        root = _tree(pairs)
        operation = _operation(model, root)
        for name in ENVELOPE:
            if name in root.children:
                root.children[name].take()
        shape = operation.input_shape
        params = self._structure(shape, root, "") if shape is not None else {}
        for param in _unused(root, ""):
            raise self.unknown_parameter(shown(param))
        return operation, params

    def _value(self, shape: Shape, node: _Node, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self._structure(shape, node, path)
        if kind == "list":
            assert isinstance(shape, ListShape)
            return self._list(shape, node, path)
        if kind == "map":
            assert isinstance(shape, MapShape)
            return self._map(shape, node, path)
        text = node.take()
        # A scalar with only deeper names (`Name.x=1`) is absent; those names are unknown.
        return None if text is None else from_text(shape, text, path)

    def _structure(self, shape: StructureShape, node: _Node, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = self.member_key(name, member)
            child = node.children.get(key)
            if child is not None:
                value = self._value(member, child, _join(path, key))
                if value is not None:
                    out[name] = value
        return out

    def _list(self, shape: ListShape, node: _Node, path: str) -> list[Any] | None:
        # botocore's QuerySerializer sends an empty list as the bare name, `Names=`.
        if node.value == "" and not node.children:
            node.take()
            return []
        item_key = self.list_item_key(shape)
        items = node if item_key is None else node.children.get(item_key)
        if items is None:
            return None
        prefix = path if item_key is None else _join(path, item_key)
        values = [
            self._value(shape.member, child, f"{prefix}.{index}")
            for index, child in _numbered(items)
        ]
        return [v for v in values if v is not None]

    def _map(self, shape: MapShape, node: _Node, path: str) -> dict[Any, Any] | None:
        flattened = shape.serialization.get("flattened")
        entries = node if flattened else node.children.get("entry")
        if entries is None:
            return None
        prefix = path if flattened else _join(path, "entry")
        key_name = self.wire_name(shape.key, "key")
        value_name = self.wire_name(shape.value, "value")
        out: dict[Any, Any] = {}
        for index, entry in _numbered(entries):
            at = f"{prefix}.{index}"
            key_node = entry.children.get(key_name)
            value_node = entry.children.get(value_name)
            if key_node is None:
                raise missing_parameter(f"{at}.{key_name}")
            if value_node is None:
                raise missing_parameter(f"{at}.{value_name}")
            key = self._value(shape.key, key_node, f"{at}.{key_name}")
            value = self._value(shape.value, value_node, f"{at}.{value_name}")
            if key is not None and value is not None:
                out[key] = value
        return out


def _numbered(node: _Node) -> list[tuple[int, _Node]]:
    """Items in number order; other segments stay unused, to be reported as unknown."""
    found = [(int(part), child) for part, child in node.children.items() if _INDEX.fullmatch(part)]
    return sorted(found, key=lambda pair: pair[0])


def _operation(model: ServiceModel, root: _Node) -> OperationModel:
    node = root.children.get("Action")
    action = node.value if node is not None else None
    if not action:
        raise AwsError("MissingAction", "No action was supplied with this request.")
    if action not in model.operation_names:
        raise AwsError(
            "InvalidAction", f"The action {shown(action)} is not valid for this web service."
        )
    return model.operation_model(action)
