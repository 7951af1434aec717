"""The one JSON loader for anything a client sends: bounded in size and nesting before parsing.

``json.loads`` recurses once per nesting level, so a few kilobytes of ``[[[[...`` raise
``RecursionError`` (a 500) instead of a clear refusal. Every client-supplied JSON text goes through
``json_loads_bounded``: the DRF parser (``BoundedJSONParser`` in ``apps.core.api``) and the form
fields that carry JSON (the Localize marks). The nesting is measured by a scan that skips string
contents, before the parser ever sees the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

# No answer, draft or setting the product accepts nests deeper than a handful of levels
# ({"boxes": [{"box": [...]}]} is 3); 32 leaves room and stays far from the recursion limit.
MAX_JSON_DEPTH = 32
# The default ceiling for a JSON body; DRF and forms pass their own where they know better.
MAX_JSON_BYTES = 2 * 1024 * 1024

# A whole string literal (skipped: brackets inside strings do not nest), or one bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
# A \uD800-\uDFFF escape: half of a surrogate pair, or a lone surrogate that is not text at all.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONRejectedError(ValueError):
    """Client JSON refused before or during parsing; the message is fit to show the user."""


class JSONTooLargeError(JSONRejectedError):
    pass


class JSONTooDeepError(JSONRejectedError):
    pass


def _reject_constant(name: str) -> Any:
    raise JSONRejectedError(f"{name} is not a number JSON allows.")


def json_depth_check(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    depth = 0
    for token in _TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                raise JSONTooDeepError(f"The JSON is nested deeper than {max_depth} levels.")
        elif char in "]}":
            depth -= 1


def _surrogate_check(value: Any) -> None:
    """Refuse lone surrogates (in keys too): they are valid JSON escapes but not Unicode, so no
    database, encoder or page can hold them. Paired escapes (an emoji) decode to one character."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise JSONRejectedError(
            "The JSON holds a lone surrogate (\\ud800-\\udfff escape)."
        ) from None


def json_loads_bounded(
    data: str | bytes,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    allow_nan: bool = False,
) -> Any:
    """Parse client JSON, refusing oversized, too deeply nested or non-standard (NaN) input.

    ``allow_nan=True`` lets NaN/Infinity through for a caller whose own validation names the
    offending field better (the marks parser rejects a NaN coordinate by its box).

    Raises ``JSONTooLargeError``, ``JSONTooDeepError`` or ``JSONRejectedError`` (all
    ``ValueError``) with a message for the user; never ``RecursionError``.
    """
    if isinstance(data, bytes | bytearray):
        if len(data) > max_bytes:
            raise JSONTooLargeError(f"The JSON is larger than {max_bytes} bytes.")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRejectedError("The JSON is not valid UTF-8.") from None
    else:
        text = data
        # Characters, not bytes: cheap, and a bound on the bytes within a factor of 4.
        if len(text) > max_bytes:
            raise JSONTooLargeError(f"The JSON is larger than {max_bytes} bytes.")
    json_depth_check(text, max_depth=max_depth)
    try:
        value = json.loads(text, parse_constant=None if allow_nan else _reject_constant)
        if _SURROGATE_ESCAPE.search(text):
            _surrogate_check(value)
        return value
    except JSONRejectedError:
        raise
    except RecursionError:  # belt and braces: the scan above should make this unreachable
        raise JSONTooDeepError(f"The JSON is nested deeper than {max_depth} levels.") from None
    except ValueError as exc:
        raise JSONRejectedError(f"The JSON is not valid: {exc}") from None
