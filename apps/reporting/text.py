"""Hygiene of the findings text a resident types or pastes, before anything stores or scores it.

Invisible characters (zero-width, bidi controls, Unicode tags, private use) are removed silently:
they are never meant, and they could hide instructions from a human reviewer (RELIABILITY S23).
Control characters other than line breaks and tabs mean binary or corrupted input and are refused,
because silently dropping them would score a text the resident never saw.
"""

from __future__ import annotations

import re
import unicodedata

from apps.core.exceptions import ApplicationError

from .models import MAX_DRAFT_CHARS, MAX_REPORT_CHARS

_LINE_BREAKS = str.maketrans({"\r": "\n", "\v": "\n", "\f": "\n", "\u2028": "\n", "\u2029": "\n"})
_SILENT_CATEGORIES = frozenset({"Cf", "Co", "Cs", "Cn"})
_TAG_BLOCK = range(0xE0000, 0xE0080)
_VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0))
_LETTER = re.compile(r"[^\W\d_]")


class _Controls(Exception):
    pass


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").translate(_LINE_BREAKS))
    kept: list[str] = []
    for char in text:
        code = ord(char)
        if code in _TAG_BLOCK or any(code in block for block in _VARIATION_SELECTORS):
            continue
        category = unicodedata.category(char)
        if category == "Cc" and char not in "\n\t":
            raise _Controls
        if char == "\ufffd" or category in _SILENT_CATEGORIES:
            continue
        kept.append(char)
    lines = "".join(kept).split("\n")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def clean_report_text(text: object, *, field: str = "text") -> str:
    """The text to store and score, or an ApplicationError that says what to fix."""
    if not isinstance(text, str):
        raise ApplicationError("The findings must be plain text.", field=field)
    if len(text) > MAX_REPORT_CHARS * 4:
        # Refuse pathological inputs before spending time normalising them.
        raise _too_long(len(text), field)
    try:
        cleaned = _clean(text)
    except _Controls:
        raise ApplicationError(
            "The findings contain control characters that are not text (binary or corrupted "
            "input). Paste plain text.",
            field=field,
        ) from None
    if not cleaned:
        raise ApplicationError("Write your findings before submitting.", field=field)
    if not _LETTER.search(cleaned):
        raise ApplicationError("The findings must be written in words.", field=field)
    if len(cleaned) > MAX_REPORT_CHARS:
        raise _too_long(len(cleaned), field)
    return cleaned


def clean_draft_text(text: object) -> str:
    """Drafts may be empty or unfinished, but they are text and they are bounded."""
    if not isinstance(text, str):
        raise ApplicationError("The draft must be plain text.", field="text")
    if len(text) > MAX_DRAFT_CHARS * 2:
        raise ApplicationError(
            f"The draft is too long to save (at most {MAX_DRAFT_CHARS:,} characters).",
            field="text",
        )
    try:
        cleaned = _clean(text)
    except _Controls:
        raise ApplicationError(
            "The draft contains control characters that are not text.", field="text"
        ) from None
    if len(cleaned) > MAX_DRAFT_CHARS:
        raise ApplicationError(
            f"The draft is too long to save ({len(cleaned):,} characters; at most "
            f"{MAX_DRAFT_CHARS:,}).",
            field="text",
        )
    return cleaned


def _too_long(length: int, field: str) -> ApplicationError:
    return ApplicationError(
        f"The findings are too long: {length:,} characters, at most {MAX_REPORT_CHARS:,}. "
        "A findings section rarely needs more than 1,500.",
        field=field,
    )
