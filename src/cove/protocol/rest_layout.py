"""Where the members of a rest-json / rest-xml input or output shape travel, compiled from
botocore's model once per operation (see cove.protocol.rest for what each location means):
by URI label, query key, header name, header prefix, the payload, or the body."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.model import Shape

from cove.protocol.rest_scalars import is_json_value


@dataclass(frozen=True)
class Member:
    name: str
    wire: str  # locationName as the model spells it
    key: str  # how a request names it: header names lower-cased, query keys as they are
    shape: Shape
    location: str | None
    verbatim: bool  # carried as its wire text, whatever its type
    plain: bool  # a string that is its own text (no jsonvalue): no conversion either way


@dataclass(frozen=True)
class Layout:
    """Where the members of one input or output shape travel."""

    shape: Shape
    members: dict[str, Member]  # every member by name, in the model's order
    uri: tuple[Member, ...]
    query: dict[str, Member]  # by query key: scalars and lists
    query_map: Member | None  # takes every key nothing else claims
    headers: dict[str, Member]  # by lower-cased header name
    prefixes: dict[str, Member]  # `headers` maps by lower-cased prefix
    payload: Member | None
    streaming: bool  # the payload is a streaming blob
    body: tuple[str, ...]  # location-less members (the body, when there is no payload)


def layout(shape: Shape, verbatim: frozenset[str] = frozenset()) -> Layout:
    """`shape`'s members by where they travel; `verbatim` names those carried as text."""
    members: dict[str, Member] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        key = wire.lower() if location in ("header", "headers") else wire
        plain = member.type_name == "string" and not is_json_value(member)
        members[name] = Member(name, wire, key, member, location, name in verbatim, plain)

    def located(where: str) -> list[Member]:
        return [m for m in members.values() if m.location == where]

    query = located("querystring")
    payload_name = shape.serialization.get("payload")
    payload = members[payload_name] if payload_name is not None else None
    return Layout(
        shape,
        members,
        tuple(located("uri")),
        {m.key: m for m in query if m.shape.type_name != "map"},
        next((m for m in query if m.shape.type_name == "map"), None),
        {m.key: m for m in located("header")},
        {m.key: m for m in located("headers")},
        payload,
        payload is not None
        and payload.shape.type_name == "blob"
        and bool(payload.shape.serialization.get("streaming")),
        tuple(m.name for m in members.values() if m.location is None),
    )
