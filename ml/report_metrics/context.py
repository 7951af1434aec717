"""Presence of each finding mention: our own implementation of the ConText algorithm.

ConText (Harkema, Dowling, Thornblade, Chapman 2009) decides whether a clinical condition is
negated, uncertain or hypothetical from *cue* phrases and their *scope*: a forward cue ("no",
"possible") covers the words after it, a backward cue ("is not seen", "cannot be excluded") the
words before it, up to the end of the sentence, a terminating word ("but", "however", ";") or the
cue's own maximum scope. Pseudo-cues ("no change in", "without change") look like cues but are
not, and consume their words so the cue inside them does not fire.

We run the algorithm ourselves on a plain word tokenisation rather than through medspaCy: it
needs no spaCy import (15 s and 300 MB in every worker), runs in microseconds per sentence, and
lets two rules that radiology wording needs be stated exactly:

- uncertainty has two strengths: *probable* ("likely", "suspicious for") and *possible* ("may",
  "cannot exclude", a differential); both are "uncertain", the strength is kept as ``hedge``;
- a hypothetical frame ("if there is concern for fracture") drops the mention whatever else
  covers it; otherwise, where several cues cover a mention, the *nearest* one decides ("possible effusion, no
  pneumothorax": the effusion is uncertain, the pneumothorax absent);
- a backward cue ("is not seen", "cannot be excluded") reaches back over a comma into a list
  coordinated before the cue ("effusion, consolidation or pneumothorax is not seen") or over an
  aside ("the pneumothorax, seen before, is not visualized"), never past another finding that
  opens its own clause ("mild edema, interstitial infiltrates not excluded");
- a comma or "and" followed by a size, an article or "the" opens a new finding and ends a
  negation's scope ("no pneumothorax, small left effusion"), except inside a negated list that
  closes with "or"/"nor" ("no consolidation, large effusion, or pneumothorax": all absent).

The cue phrases are listed, with their categories, in ``modifiers.CONTEXT_PHRASES``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ml.report_metrics.findings import Presence, Span
from ml.report_metrics.modifiers import (
    CONTEXT_PHRASES,
    HYPOTHETICAL,
    NEGATED,
    NEW_FINDING_OPENERS,
    POSSIBLE,
    PROBABLE,
    PSEUDO,
    TERMINATE,
)

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[;,:()/]", re.IGNORECASE)
_LIST_CLOSERS = frozenset({"or", "nor", "/"})
_JOINERS = frozenset({",", "and"})
_COORDINATORS = frozenset({"or", "nor", "and", "/"})
Reading = tuple[Presence | None, str | None]


@dataclass(frozen=True, slots=True)
class _Cue:
    category: str
    direction: str  # FORWARD, BACKWARD, BIDIRECTIONAL, TERMINATE or PSEUDO
    max_scope: int | None
    start: int  # token index of the first word
    end: int  # token index after the last word


@cache
def _cue_table() -> dict[str, tuple[tuple[tuple[str, ...], str, str, int | None], ...]]:
    """Cue phrases by first word, longest first, so the longest cue at a position wins."""
    table: dict[str, list[tuple[tuple[str, ...], str, str, int | None]]] = {}
    for literal, category, direction, max_scope in CONTEXT_PHRASES:
        words = tuple(token.lower() for token in _TOKEN.findall(literal))
        if words:
            table.setdefault(words[0], []).append((words, category, direction, max_scope))
    return {
        first: tuple(sorted(entries, key=lambda entry: -len(entry[0])))
        for first, entries in table.items()
    }


def _cues(words: Sequence[str]) -> list[_Cue]:
    table = _cue_table()
    found: list[_Cue] = []
    index = 0
    while index < len(words):
        for phrase, category, direction, max_scope in table.get(words[index], ()):
            if tuple(words[index : index + len(phrase)]) == phrase:
                found.append(_Cue(category, direction, max_scope, index, index + len(phrase)))
                index += len(phrase)
                break
        else:
            index += 1
    return found


def _breaks(words: Sequence[str], cues: Sequence[_Cue]) -> list[bool]:
    """``breaks[i]``: a forward or backward scope may not cross token ``i``."""
    breaks = [False] * (len(words) + 1)
    for cue in cues:
        if cue.direction == TERMINATE:
            for index in range(cue.start, cue.end):
                breaks[index] = True
    closers = [index for index, word in enumerate(words) if word in _LIST_CLOSERS]
    last_closer = max(closers, default=-1)
    for index in range(len(words) - 1):
        # "No consolidation, large effusion, or pneumothorax" is one negated list.
        if (
            words[index] in _JOINERS
            and words[index + 1] in NEW_FINDING_OPENERS
            and last_closer < index
        ):
            breaks[index] = True
    return breaks


def presences(text: str, sentence: Span, targets: Sequence[Span]) -> list[Reading]:
    """The presence and hedge of each target of one sentence; presence ``None`` for a
    hypothetical mention; hedge "probable" or "possible" for an uncertain one."""
    start, end = sentence
    tokens = [
        (match.start() + start, match.end() + start, match.group().lower())
        for match in _TOKEN.finditer(text[start:end])
    ]
    words = [word for _, _, word in tokens]
    cues = _cues(words)
    live = [cue for cue in cues if cue.direction not in (TERMINATE, PSEUDO)]
    if not live:
        return [("present", None)] * len(targets)
    breaks = _breaks(words, cues)
    blocked = [0]
    for flag in breaks:
        blocked.append(blocked[-1] + flag)
    spans: list[tuple[int, int] | None] = []
    for target_start, target_end in targets:
        inside = [i for i, (s, e, _) in enumerate(tokens) if s < target_end and e > target_start]
        spans.append((inside[0], inside[-1] + 1) if inside else None)
    firsts = [span[0] for span in spans if span is not None]
    results: list[Reading] = []
    for span in spans:
        if span is None:
            results.append(("present", None))
            continue
        first, last = span
        best: tuple[int, int, str] | None = None  # (distance, order, category)
        hypothetical = False
        for order, cue in enumerate(live):
            distance = _distance(cue, first, last, blocked, words, firsts)
            if distance is None:
                continue
            # "If there is concern for fracture": a hypothetical frame wins over any cue in it.
            hypothetical = hypothetical or cue.category == HYPOTHETICAL
            if best is None or (distance, order) < best[:2]:
                best = (distance, order, cue.category)
        results.append(_presence(HYPOTHETICAL if hypothetical else best[2] if best else None))
    return results


def _distance(
    cue: _Cue,
    first: int,
    last: int,
    blocked: list[int],
    words: Sequence[str],
    firsts: Sequence[int],
) -> int | None:
    """Tokens between ``cue`` and the target ``[first, last)`` when the cue covers it."""
    if cue.start >= first and cue.end <= last:
        return 0  # "heart is borderline enlarged": a cue inside the mention applies to it
    forward = cue.direction in ("FORWARD", "BIDIRECTIONAL")
    backward = cue.direction in ("BACKWARD", "BIDIRECTIONAL")
    if forward and cue.end <= first:
        gap = first - cue.end
        if blocked[first] == blocked[cue.end] and (cue.max_scope is None or gap <= cue.max_scope):
            return gap
    if backward and cue.start >= last and _reaches_back(words, last, cue.start, firsts):
        gap = cue.start - last
        if blocked[cue.start] == blocked[last] and (cue.max_scope is None or gap <= cue.max_scope):
            return gap
    return None


def _reaches_back(words: Sequence[str], last: int, cue_start: int, firsts: Sequence[int]) -> bool:
    """Whether a backward cue reaches back over ``words[last:cue_start]``. Across a comma it
    reaches a list coordinated before the cue ("effusion, consolidation, or pneumothorax is not
    seen") and a finding with an aside ("the pneumothorax, seen before, is not visualized"), but
    not past another finding that opens its own clause ("mild edema, interstitial infiltrates
    not excluded" hedges the infiltrates alone)."""
    commas = [index for index in range(last, cue_start) if words[index] == ","]
    if not commas:
        return True
    after = commas[-1] + 1
    if any(words[index] in _COORDINATORS for index in range(after, cue_start)):
        return True
    return not any(after <= first < cue_start for first in firsts)


def _presence(category: str | None) -> Reading:
    if category == HYPOTHETICAL:
        return (None, None)
    if category == NEGATED:
        return ("absent", None)
    if category == POSSIBLE:
        return ("uncertain", "possible")
    if category == PROBABLE:
        return ("uncertain", "probable")
    return ("present", None)
