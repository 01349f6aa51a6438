"""API Gateway's mapping-template variables over the VTL engine: `$input` (the payload and
the request's parameters), `$util`, `$context`, `$stageVariables` (API Gateway Developer
Guide, "Variables for data transformations for API Gateway"), and the JSONPath subset
`$input.json`/`$input.path` take."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cove.apis.vtl import UNDEFINED, Template, TemplateError, as_json, parse, render


class BodyNotJson(TemplateError):
    """`$input.json`/`$input.path` over a payload that is not JSON."""


@lru_cache(maxsize=512)
def compiled(text: str) -> Template:
    return parse(text)


_STEP = re.compile(
    r"\.([A-Za-z_$][\w$-]*)|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[(\d+)\]|\[\*\]|\.\*"
)


def select(document: Any, path: str) -> Any:
    """The part of `document` a JSONPath (`$`, `$.a.b`, `$['a']`, `$.a[0]`, `[*]`) names;
    None when it names nothing."""
    path = path.strip()
    if not path.startswith("$"):
        path = "$." + path
    current: list[Any] = [document]
    many = False
    pos = 1
    while pos < len(path):
        step = _STEP.match(path, pos)
        if step is None:
            raise TemplateError(f"Invalid JSONPath {path!r}")
        pos = step.end()
        name = step.group(1) or step.group(2) or step.group(3)
        nxt: list[Any] = []
        for item in current:
            if name is not None:
                if isinstance(item, dict) and name in item:
                    nxt.append(item[name])
            elif step.group(4) is not None:
                index = int(step.group(4))
                if isinstance(item, list) and index < len(item):
                    nxt.append(item[index])
            else:  # a wildcard
                many = True
                nxt.extend(item.values() if isinstance(item, dict) else item)
        current = nxt
    if many:
        return current
    return current[0] if current else None


@dataclass
class Params:
    """The method request's parameters: path, query string and headers."""

    path: dict[str, str] = field(default_factory=dict)
    querystring: dict[str, str] = field(default_factory=dict)
    header: dict[str, str] = field(default_factory=dict)

    def find(self, name: str) -> str:
        """`$input.params(name)`: the path, then the query string, then the headers (these
        by any case)."""
        if name in self.path:
            return self.path[name]
        if name in self.querystring:
            return self.querystring[name]
        lowered = name.lower()
        return next((v for k, v in self.header.items() if k.lower() == lowered), "")

    def as_map(self) -> dict[str, dict[str, str]]:
        return {"path": self.path, "querystring": self.querystring, "header": self.header}


class Input:
    """`$input`: the payload (the request's, or the integration's in a response template)."""

    def __init__(self, body: str, params: Params) -> None:
        self.body = body
        self.params = params
        self._parsed: Any = UNDEFINED

    def _document(self) -> Any:
        if self._parsed is UNDEFINED:
            if not self.body.strip():
                self._parsed = {}
            else:
                try:
                    self._parsed = json.loads(self.body)
                except ValueError as exc:
                    raise BodyNotJson(str(exc)) from None
        return self._parsed

    def property(self, name: str) -> Any:
        return self.body if name == "body" else UNDEFINED

    def call(self, name: str, args: list[Any]) -> Any:
        if name == "json" and len(args) == 1:
            return as_json(select(self._document(), render(args[0])))
        if name == "path" and len(args) == 1:
            return select(self._document(), render(args[0]))
        if name == "params" and not args:
            return self.params.as_map()
        if name == "params" and len(args) == 1:
            return self.params.find(render(args[0]))
        if name in ("getBody", "toString") and not args:
            return self.body
        return UNDEFINED


def escape_javascript(text: str) -> str:
    """Java's StringEscapeUtils.escapeJavaScript, which `$util.escapeJavaScript` is: quotes
    (single ones too), backslash and slash escaped, control and non-ASCII characters as
    \\uXXXX (API Gateway Developer Guide, "$util variables")."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in "\"'\\/":
            out.append("\\" + ch)
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 0x20 or code > 0x7E:
            if code > 0xFFFF:  # Java strings hold these as two UTF-16 units
                high, low = divmod(code - 0x10000, 0x400)
                out.append(f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04X}")
            else:
                out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return "".join(out)


class Util:
    """`$util`."""

    def property(self, name: str) -> Any:
        return UNDEFINED

    def call(self, name: str, args: list[Any]) -> Any:
        if len(args) != 1:
            return UNDEFINED
        text = render(args[0])
        if name == "escapeJavaScript":
            return escape_javascript(text)
        if name == "urlEncode":
            return urllib.parse.quote_plus(text)
        if name == "urlDecode":
            return urllib.parse.unquote_plus(text)
        if name == "base64Encode":
            return base64.b64encode(text.encode()).decode()
        if name == "base64Decode":
            return base64.b64decode(text).decode("utf-8", "replace")
        if name == "parseJson":
            try:
                return json.loads(text)
            except ValueError as exc:
                raise TemplateError(f"$util.parseJson: {exc}") from None
        return UNDEFINED


UTIL = Util()


def transform(
    template: str,
    body: str,
    params: Params,
    context: dict[str, Any],
    stage_variables: dict[str, str],
) -> str:
    """Render one mapping template over a payload."""
    variables = {
        "input": Input(body, params),
        "util": UTIL,
        "context": context,
        "stageVariables": stage_variables,
    }
    return compiled(template).render(variables)


def template_for(templates: dict[str, str], content_type: str | None) -> str | None:
    """The template for a content type (media type only, any case); None when none."""
    wanted = (content_type or "application/json").split(";")[0].strip().lower()
    return next((t for k, t in templates.items() if k.lower() == wanted), None)
