"""What may go into a response header: HTTP/1.1 carries Latin-1 text without CR or LF.

A CR or LF in a value ends the header and starts another (header injection); a
character outside Latin-1 cannot be written at all. Values that come from clients
(S3's response-* overrides) or from model code (CustomAttributes) are checked where they
enter; `safe_headers` is the writer's last line for anything that still slips through.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

log = logging.getLogger(__name__)

# RFC 9110 field-value: visible characters, space, tab and obs-text (0x80-0xFF)
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_NOT_FIELD_VALUE = re.compile(r"[^\t\x20-\x7e\x80-\xff]")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VISIBLE_ASCII = re.compile(r"[\x20-\x7e]*")


def is_field_value(value: str) -> bool:
    """True if `value` can be written as a header value as it is."""
    return _FIELD_VALUE.fullmatch(value) is not None


def is_token(name: str) -> bool:
    """True if `name` can be a header name."""
    return _TOKEN.fullmatch(name) is not None


def is_visible_ascii(value: str, max_length: int) -> bool:
    """Printable US-ASCII (space included), at most `max_length` characters."""
    return len(value) <= max_length and _VISIBLE_ASCII.fullmatch(value) is not None


def safe_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers with unwritable ones made safe: a name that is not a token is
    dropped, characters a value may not hold are replaced by '?'."""
    out = []
    for name, value in headers:
        if not is_token(name):
            log.warning("dropped a response header with an invalid name: %r", name[:64])
            continue
        if not is_field_value(value):
            log.warning("replaced invalid characters in response header %s", name)
            value = _NOT_FIELD_VALUE.sub("?", value)
        out.append((name, value))
    return out
