"""Sentence splitting for chest film reports, returning character spans into the original text.

A general-purpose splitter breaks radiology text in the wrong places ("approx. 2 cm", "e.g. the
left base", "1. Small effusion."), and PyRuSH is slow and noisy, so the rules are our own:

- A sentence ends at ``.``, ``?`` or ``!`` followed by whitespace and then a letter (upper or
  lower case: "normal chest. large left effusion." is two sentences), a list marker, a size
  ("... effusion. 6 mm nodule") or the end of the text. Any other period followed by a digit
  ("measures 2. 5 cm") does not end a sentence, nor does a single letter's or a unit's period
  before a lower-case word ("a 2 cm. nodule").
- A period inside a token ("2.5", "e.g.") never ends a sentence, because it is not followed by
  whitespace.
- Abbreviations that never close a sentence ("e.g.", "i.e.", "vs.", "approx.", "Dr.") do not end
  one even before a capital letter ("vs. Pneumonia").
- A line break ends a sentence unless the line before it ends in a comma, a colon, a hyphen or a
  joining word ("and", "of", "with"): typed reports often put one statement on each line with
  no final period.
- Numbered and bulleted list markers ("1.", "2)", "-", "*") are left out of the sentence span.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Abbreviations after which a period never ends a sentence, whatever follows.
_NEVER_FINAL = frozenset(
    {"e.g", "i.e", "vs", "approx", "dr", "fig", "cf", "incl", "resp", "ca", "viz"}
)
_UNITS = frozenset({"cm", "mm", "in"})
_LIST_MARKER = re.compile(r"(?:\d{1,2}[.)]|[-*\u2022])\s+")
# A size opening a sentence: "6 mm", "2.5 x 1.9 cm", "13 - 14 mm".
_SIZE = re.compile(r"\d+(?:\.\d+)?(?:\s*(?:x|-|to)\s*\d+(?:\.\d+)?)*\s*(?:mm|cm)\b", re.IGNORECASE)
_TERMINAL = re.compile(r"[.?!]+(?=\s|$)")
_LINE_BREAK = re.compile(r"\n\s*")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_FIRST_ITEM = re.compile(r"(?:^|\s)1[.)]\s+[A-Z]")
_INLINE_ITEM = re.compile(r"(?<=\s)(\d{1,2})[.)]\s+(?=[A-Z])")
_HEADING = re.compile(r"(?:findings|impression|report|final report)\s*:\s*", re.IGNORECASE)
# A line that ends like this continues on the next one.
_CONTINUES = re.compile(
    r"(?:[,:/(-]|\b(?:and|or|of|with|without|the|a|an|to|in|at|by|for|is|are))\s*$",
    re.IGNORECASE,
)
_ITEM_NUMBER_BEFORE = re.compile(r"(?:^|[\n.?!:;]\s*|^\s*)\d{1,2}$")


def _is_list_number(text: str, period: int) -> bool:
    """Whether the period at ``period`` belongs to a list marker such as "2." opening an item."""
    return bool(_ITEM_NUMBER_BEFORE.search(text, max(0, period - 6), period))


def _is_sentence_end(text: str, stop: int, after: int) -> bool:
    """Whether the punctuation ending at ``stop`` closes a sentence; ``after`` is the next
    non-space position."""
    if after >= len(text):
        return True
    punct = text[stop - 1]
    if punct in "?!":
        return True
    word_match = _WORD_BEFORE.search(text, 0, stop - 1)
    word = word_match.group(1).lower() if word_match else ""
    # "No. 3 rib" and "e.g. Left" keep going; a list item after any of them still starts anew.
    if word in _NEVER_FINAL and not _LIST_MARKER.match(text, after):
        return False
    following = text[after]
    if following.isupper() or following in "\"'([":
        return True
    if following.isalpha():
        # "A 2 cm. nodule": a unit's period before a lower-case word is an abbreviation's.
        return len(word) > 1 and word not in _UNITS
    if following.isdigit() and len(word) > 1 and word not in _UNITS and _SIZE.match(text, after):
        return True  # "... effusion. 6 mm nodule in the left apex.": a sentence opens on a size
    return bool(_LIST_MARKER.match(text, after))


def _boundaries(text: str) -> list[int]:
    """Positions where a new sentence may start (before trimming)."""
    cuts: set[int] = set()
    marker_periods: set[int] = set()
    # "Findings: 1. Small effusion 2. No pneumothorax": once a list has begun, a number followed
    # by a capitalised item opens the next item even without a period before it.
    if _FIRST_ITEM.search(text):
        for match in _INLINE_ITEM.finditer(text):
            cuts.add(match.start())
            marker_periods.add(match.end(1))
    for match in _TERMINAL.finditer(text):
        if match.group() == "." and (
            match.start() in marker_periods or _is_list_number(text, match.start())
        ):
            continue
        after = match.end()
        while after < len(text) and text[after].isspace():
            after += 1
        if _is_sentence_end(text, match.end(), after):
            cuts.add(match.end())
    for match in _LINE_BREAK.finditer(text):
        if match.end() >= len(text):
            continue
        if not _CONTINUES.search(text, max(0, match.start() - 16), match.start()):
            cuts.add(match.start())
    return sorted(cuts)


@lru_cache(maxsize=8192)
def split_sentences(text: str) -> tuple[tuple[int, int], ...]:
    """Split ``text`` into sentences, returned as ``(start, end)`` character spans.

    Spans are trimmed of surrounding whitespace and list markers; empty pieces are dropped, so
    every span covers at least one non-space character and ``text[start:end]`` is the sentence.
    Cached: extraction, style and alignment all split the same texts.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*_boundaries(text), len(text)]:
        if cut <= start:
            continue
        spans.extend(_trimmed(text, start, cut))
        start = cut
    return tuple(spans)


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    heading = _HEADING.match(text, start, end)
    if heading:
        start = heading.end()
    marker = _LIST_MARKER.match(text, start, end)
    # A bare "1." line is a list marker only when something follows it in the same piece.
    if marker and marker.end() < end:
        start = marker.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end or not any(ch.isalnum() for ch in text[start:end]):
        return []
    return [(start, end)]
