"""The subset of the Velocity Template Language that API Gateway's mapping templates are
written in: text with `$references` (`$a.b`, `$a.get('k')`, `${a}`, quiet `$!a`),
`#set`, `#if`/`#elseif`/`#else`/`#end`, `#foreach` (with `$foreach.hasNext`) and
comments, over expressions with literals, lists, maps and the usual operators. What the
references reach (`$input`, `$util`, `$context`, ...) is the caller's: objects with
`property(name)` and `call(name, args)`, or plain dicts, lists, strings and numbers, which
get the methods of the Java types Velocity gives them (`keySet()`, `size()`, ...)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class TemplateError(Exception):
    """A template that cannot be parsed or evaluated."""


class Scriptable(Protocol):
    def property(self, name: str) -> Any: ...

    def call(self, name: str, args: list[Any]) -> Any: ...


class _Undefined:
    """A reference to nothing: rendered as its own source text (or nothing when quiet)."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undefined()

# nodes of a parsed template


@dataclass
class _Text:
    text: str


@dataclass
class _Ref:
    source: str
    root: str
    trailers: list[tuple[str, str, list[Any] | None]]  # (kind ".", "[", name or "", args)
    quiet: bool


@dataclass
class _Literal:
    value: Any


@dataclass
class _Interpolated:
    body: list[Any]


@dataclass
class _ListExpr:
    items: list[Any]


@dataclass
class _MapExpr:
    items: list[tuple[Any, Any]]


@dataclass
class _Op:
    op: str
    args: list[Any]


@dataclass
class _Set:
    name: str
    value: Any


@dataclass
class _If:
    branches: list[tuple[Any, list[Any]]]
    otherwise: list[Any]


@dataclass
class _Foreach:
    name: str
    items: Any
    body: list[Any]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_DIRECTIVE = re.compile(r"#\{?(set|if|elseif|else|end|foreach)\}?")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # template level

    def parse(self) -> list[Any]:
        body, stop = self._block()
        if stop is not None:
            raise TemplateError(f"#{stop} without an opening directive")
        return body

    def _block(self) -> tuple[list[Any], str | None]:
        """Nodes up to an #elseif/#else/#end (returned as the stop) or the end."""
        nodes: list[Any] = []
        text: list[str] = []

        def flush() -> None:
            if text:
                nodes.append(_Text("".join(text)))
                text.clear()

        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "#":
                if self.text.startswith("##", self.pos):
                    end = self.text.find("\n", self.pos)
                    self.pos = len(self.text) if end < 0 else end + 1
                    continue
                if self.text.startswith("#*", self.pos):
                    end = self.text.find("*#", self.pos + 2)
                    if end < 0:
                        raise TemplateError("unterminated #* comment")
                    self.pos = end + 2
                    continue
                found = _DIRECTIVE.match(self.text, self.pos)
                if found is not None:
                    flush()
                    name = found.group(1)
                    self.pos = found.end()
                    if name in ("elseif", "else", "end"):
                        return nodes, name
                    nodes.append(self._directive(name))
                    continue
            if ch == "$":
                ref = self._reference()
                if ref is not None:
                    flush()
                    nodes.append(ref)
                    continue
            if ch == "\\" and self.text.startswith("\\$", self.pos):
                text.append("$")  # an escaped reference is its literal text
                self.pos += 2
                continue
            text.append(ch)
            self.pos += 1
        flush()
        return nodes, None

    def _directive(self, name: str) -> Any:
        if name == "set":
            self._expect("(")
            target = self._reference()
            if target is None or target.trailers:
                raise TemplateError("#set needs a $variable to assign")
            self._expect("=")
            value = self._expression()
            self._expect(")")
            return _Set(target.root, value)
        if name == "if":
            branches: list[tuple[Any, list[Any]]] = []
            condition = self._condition()
            while True:
                body, stop = self._block()
                branches.append((condition, body))
                if stop == "elseif":
                    condition = self._condition()
                    continue
                if stop == "else":
                    otherwise, stop = self._block()
                    if stop != "end":
                        raise TemplateError("#else without #end")
                    return _If(branches, otherwise)
                if stop == "end":
                    return _If(branches, [])
                raise TemplateError("#if without #end")
        # foreach
        self._expect("(")
        var = self._reference()
        if var is None or var.trailers:
            raise TemplateError("#foreach needs a $variable")
        self._skip_spaces()
        if not self.text.startswith("in", self.pos):
            raise TemplateError("#foreach needs 'in'")
        self.pos += 2
        items = self._expression()
        self._expect(")")
        body, stop = self._block()
        if stop != "end":
            raise TemplateError("#foreach without #end")
        return _Foreach(var.root, items, body)

    def _condition(self) -> Any:
        self._expect("(")
        condition = self._expression()
        self._expect(")")
        return condition

    def _reference(self) -> _Ref | None:
        """A $reference at pos, or None (pos unchanged) when '$' starts none."""
        start = self.pos
        pos = start + 1
        quiet = self.text.startswith("!", pos)
        if quiet:
            pos += 1
        braced = self.text.startswith("{", pos)
        if braced:
            pos += 1
        name = _IDENT.match(self.text, pos)
        if name is None:
            return None
        self.pos = name.end()
        trailers: list[tuple[str, str, list[Any] | None]] = []
        while self.pos < len(self.text):
            if self.text[self.pos] == "." and _IDENT.match(self.text, self.pos + 1):
                member = _IDENT.match(self.text, self.pos + 1)
                assert member is not None
                self.pos = member.end()
                args = None
                if self.text.startswith("(", self.pos):
                    self.pos += 1
                    args = self._arguments(")")
                trailers.append((".", member.group(0), args))
            elif self.text[self.pos] == "[":
                self.pos += 1
                index = self._expression()
                self._expect("]")
                trailers.append(("[", "", [index]))
            else:
                break
        if braced:
            if not self.text.startswith("}", self.pos):
                self.pos = start
                return None
            self.pos += 1
        return _Ref(self.text[start : self.pos], name.group(0), trailers, quiet)

    # expressions

    def _arguments(self, close: str) -> list[Any]:
        args: list[Any] = []
        self._skip_spaces()
        if self.text.startswith(close, self.pos):
            self.pos += 1
            return args
        while True:
            args.append(self._expression())
            self._skip_spaces()
            if self.text.startswith(close, self.pos):
                self.pos += 1
                return args
            self._expect(",")

    def _expression(self) -> Any:
        return self._binary(0)

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||", "or"),
        ("&&", "and"),
        ("==", "!=", "eq", "ne"),
        ("<=", ">=", "<", ">", "le", "ge", "lt", "gt"),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def _binary(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            self._skip_spaces()
            op = next(
                (
                    o
                    for o in self._LEVELS[level]
                    if self.text.startswith(o, self.pos)
                    and not (o.isalpha() and _IDENT.match(self.text, self.pos + len(o)))
                ),
                None,
            )
            if op is None:
                return left
            self.pos += len(op)
            right = self._binary(level + 1)
            left = _Op(_ALIASES.get(op, op), [left, right])

    def _unary(self) -> Any:
        self._skip_spaces()
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.pos += 1
            return _Op("!", [self._unary()])
        if self.text.startswith("not ", self.pos):
            self.pos += 4
            return _Op("!", [self._unary()])
        return self._primary()

    def _primary(self) -> Any:
        self._skip_spaces()
        text, pos = self.text, self.pos
        if pos >= len(text):
            raise TemplateError("expression expected at the end of the template")
        ch = text[pos]
        if ch in "'\"":
            end = text.find(ch, pos + 1)
            if end < 0:
                raise TemplateError("unterminated string")
            self.pos = end + 1
            raw = text[pos + 1 : end]
            if ch == '"' and ("$" in raw or "#" in raw):
                return _Interpolated(_Parser(raw).parse())
            return _Literal(raw)
        if ch == "(":
            self.pos += 1
            inner = self._expression()
            self._expect(")")
            return inner
        if ch == "[":
            self.pos += 1
            return _ListExpr(self._arguments("]"))
        if ch == "{":
            self.pos += 1
            items: list[tuple[Any, Any]] = []
            self._skip_spaces()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return _MapExpr(items)
            while True:
                key = self._expression()
                self._expect(":")
                items.append((key, self._expression()))
                self._skip_spaces()
                if self.text.startswith("}", self.pos):
                    self.pos += 1
                    return _MapExpr(items)
                self._expect(",")
        if ch == "$":
            ref = self._reference()
            if ref is None:
                raise TemplateError(f"bad reference at {text[pos : pos + 20]!r}")
            return ref
        number = _NUMBER.match(text, pos)
        if number is not None:
            self.pos = number.end()
            raw = number.group(0)
            return _Literal(float(raw) if "." in raw else int(raw))
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, pos):
                self.pos += len(word)
                return _Literal(value)
        raise TemplateError(f"unexpected {text[pos : pos + 20]!r} in an expression")

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _expect(self, token: str) -> None:
        self._skip_spaces()
        if not self.text.startswith(token, self.pos):
            found = self.text[self.pos : self.pos + 20]
            raise TemplateError(f"expected {token!r} at {found!r}")
        self.pos += len(token)


_ALIASES = {"or": "||", "and": "&&", "eq": "==", "ne": "!=", "le": "<=", "ge": ">=",
            "lt": "<", "gt": ">"}  # fmt: skip


# evaluation


@dataclass
class _Loop:
    """`$foreach` inside a #foreach."""

    index: int
    total: int

    def property(self, name: str) -> Any:
        if name == "hasNext":
            return self.index + 1 < self.total
        if name == "index":
            return self.index
        if name == "count":
            return self.index + 1
        if name in ("first", "last"):
            return self.index == 0 if name == "first" else self.index + 1 == self.total
        return UNDEFINED

    def call(self, name: str, args: list[Any]) -> Any:
        if name.startswith(("get", "is")) and not args:
            bare = name.removeprefix("get").removeprefix("is")
            return self.property(bare[:1].lower() + bare[1:])
        return UNDEFINED


class _Scope:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables

    def run(self, nodes: list[Any], out: list[str]) -> None:
        for node in nodes:
            if isinstance(node, _Text):
                out.append(node.text)
            elif isinstance(node, _Ref):
                value = self.value(node)
                if value is UNDEFINED or value is None:
                    if not node.quiet:
                        out.append(node.source)
                else:
                    out.append(render(value))
            elif isinstance(node, _Set):
                self.variables[node.name] = self.value(node.value)
            elif isinstance(node, _If):
                for condition, body in node.branches:
                    if truthy(self.value(condition)):
                        self.run(body, out)
                        break
                else:
                    self.run(node.otherwise, out)
            elif isinstance(node, _Foreach):
                self._foreach(node, out)

    def _foreach(self, node: _Foreach, out: list[str]) -> None:
        items = self.value(node.items)
        if isinstance(items, dict):
            items = list(items.values())
        elif not isinstance(items, list | tuple):
            return  # Velocity iterates nothing over a non-collection
        saved = {k: self.variables.get(k, UNDEFINED) for k in (node.name, "foreach")}
        for index, item in enumerate(items):
            self.variables[node.name] = item
            self.variables["foreach"] = _Loop(index, len(items))
            self.variables["velocityCount"] = index + 1
            self.run(node.body, out)
        for key, value in saved.items():
            if value is UNDEFINED:
                self.variables.pop(key, None)
            else:
                self.variables[key] = value

    def value(self, node: Any) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Ref):
            value = self.variables.get(node.root, UNDEFINED)
            for kind, name, args in node.trailers:
                if value is UNDEFINED or value is None:
                    return UNDEFINED
                if kind == "[":
                    assert args is not None
                    value = _index(value, self.value(args[0]))
                elif args is None:
                    value = _property(value, name)
                else:
                    value = _call(value, name, [self.value(a) for a in args])
            return value
        if isinstance(node, _Interpolated):
            out: list[str] = []
            self.run(node.body, out)
            return "".join(out)
        if isinstance(node, _ListExpr):
            return [self.value(i) for i in node.items]
        if isinstance(node, _MapExpr):
            return {render(self.value(k)): self.value(v) for k, v in node.items}
        if isinstance(node, _Op):
            return self._operate(node)
        raise TemplateError(f"cannot evaluate {node!r}")

    def _operate(self, node: _Op) -> Any:
        op = node.op
        if op == "!":
            return not truthy(self.value(node.args[0]))
        if op == "&&":
            return truthy(self.value(node.args[0])) and truthy(self.value(node.args[1]))
        if op == "||":
            return truthy(self.value(node.args[0])) or truthy(self.value(node.args[1]))
        left, right = self.value(node.args[0]), self.value(node.args[1])
        if op in ("==", "!="):
            same = _equal(left, right)
            return same if op == "==" else not same
        numbers = _is_number(left) and _is_number(right)
        if op == "+" and not numbers:
            return render(left) + render(right)
        if not numbers:
            raise TemplateError(f"{op} needs numbers")
        operations: dict[str, Callable[[Any, Any], Any]] = {
            "+": lambda a, b: a + b,
            "-": lambda a, b: a - b,
            "*": lambda a, b: a * b,
            "/": lambda a, b: a // b if isinstance(a, int) and isinstance(b, int) else a / b,
            "%": lambda a, b: a % b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
        }
        return operations[op](left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if type(left) is type(right):
        return bool(left == right)
    # Velocity compares objects of different classes by their string forms
    if left in (None, UNDEFINED) or right in (None, UNDEFINED):
        return left in (None, UNDEFINED) and right in (None, UNDEFINED)
    return render(left) == render(right)


def truthy(value: Any) -> bool:
    return not (value is None or value is UNDEFINED or value is False)


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        return value.get(render(key), UNDEFINED)
    if isinstance(value, list | tuple) and isinstance(key, int):
        return value[key] if -len(value) <= key < len(value) else UNDEFINED
    return UNDEFINED


def _property(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name, UNDEFINED)
    if hasattr(value, "property"):
        return value.property(name)
    if name == "empty":
        return _call(value, "isEmpty", [])
    return UNDEFINED


def _call(value: Any, name: str, args: list[Any]) -> Any:
    if hasattr(value, "call"):
        return value.call(name, args)
    if isinstance(value, dict):
        return _map_method(value, name, args)
    if isinstance(value, list | tuple):
        return _list_method(list(value), name, args)
    if isinstance(value, str):
        return _string_method(value, name, args)
    if name == "toString" and not args:
        return render(value)
    return UNDEFINED


def _map_method(value: dict[str, Any], name: str, args: list[Any]) -> Any:
    if name == "get" and len(args) == 1:
        return value.get(render(args[0]))
    if name == "keySet" and not args:
        return list(value)
    if name == "values" and not args:
        return list(value.values())
    if name == "size" and not args:
        return len(value)
    if name == "isEmpty" and not args:
        return not value
    if name == "containsKey" and len(args) == 1:
        return render(args[0]) in value
    if name == "put" and len(args) == 2:
        previous = value.get(render(args[0]))
        value[render(args[0])] = args[1]
        return previous
    if name == "toString" and not args:
        return render(value)
    return UNDEFINED


def _list_method(value: list[Any], name: str, args: list[Any]) -> Any:
    if name == "size" and not args:
        return len(value)
    if name == "get" and len(args) == 1 and isinstance(args[0], int):
        return _index(value, args[0])
    if name == "isEmpty" and not args:
        return not value
    if name == "contains" and len(args) == 1:
        return any(_equal(v, args[0]) for v in value)
    if name == "toString" and not args:
        return render(value)
    return UNDEFINED


_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "length": len,
    "size": len,
    "isEmpty": lambda s: not s,
    "toLowerCase": str.lower,
    "toUpperCase": str.upper,
    "trim": str.strip,
    "toString": str,
    "contains": lambda s, t: render(t) in s,
    "startsWith": lambda s, t: s.startswith(render(t)),
    "endsWith": lambda s, t: s.endswith(render(t)),
    "equals": lambda s, t: s == render(t),
    "indexOf": lambda s, t: s.find(render(t)),
    "replace": lambda s, a, b: s.replace(render(a), render(b)),
    # Java's regular expressions; `$1` in the replacement is a group
    "replaceAll": lambda s, a, b: re.sub(render(a), re.sub(r"\$(\d)", r"\\\1", render(b)), s),
    "matches": lambda s, a: re.fullmatch(render(a), s) is not None,
    "split": lambda s, a: re.split(render(a), s),
    "substring": lambda s, a, b=None: s[a:] if b is None else s[a:b],
}


def _string_method(value: str, name: str, args: list[Any]) -> Any:
    method = _STRING_METHODS.get(name)
    if method is None:
        return UNDEFINED
    try:
        return method(value, *args)
    except TypeError:
        return UNDEFINED


def render(value: Any) -> str:
    """A value as Velocity writes it: Java's toString of the value's Java type."""
    if value is None or value is UNDEFINED:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value) if value != int(value) or abs(value) >= 1e7 else f"{value:.1f}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if hasattr(value, "call"):
        return render(value.call("toString", []))
    return str(value)


@dataclass(frozen=True)
class Template:
    nodes: list[Any]

    def render(self, variables: dict[str, Any]) -> str:
        out: list[str] = []
        _Scope(dict(variables)).run(self.nodes, out)
        return "".join(out)


def parse(text: str) -> Template:
    return Template(_Parser(text).parse())


def as_json(value: Any) -> str:
    """A value as JSON text (what `$input.json` and `$util.toJson` give)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
