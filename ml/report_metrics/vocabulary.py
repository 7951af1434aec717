"""The target matcher: every report phrase that names a finding, found in one pass.

Two sources feed it:

1. Our own phrase rules (``phrases.PHRASE_RULES``): the clinical equivalents a synonym list
   cannot express. They decide wherever they read a phrase.
2. Every name and synonym of the taxonomy, as a literal phrase, unless one of our rules already
   reads that phrase or it is too generic to mean a finding in running text ("cavity" in
   "pleural cavity").

Normal statements, the other half of what a report says, are in ``normals``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ml import taxonomy
from ml.report_metrics.phrases import GENERIC_SPELLINGS, PHRASE_RULES, UNEXTRACTED_LABELS


@dataclass(frozen=True, slots=True)
class TargetTable:
    """Every target rule in matching order, with the keys that gate it."""

    patterns: tuple[str, ...]
    labels: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]


def _literal_pattern(spelling: str) -> str:
    words = re.split(r"[\s_\-/]+", spelling.strip())
    body = r"[\s\-/]*".join(re.escape(word) for word in words if word)
    return body + r"(?:e?s)?" if spelling[-1:].isalpha() else body


def _literal_keys(spelling: str) -> tuple[str, ...]:
    words = [word for word in re.split(r"[\s_\-/]+", spelling.lower()) if word]
    return (max(words, key=len),)


@cache
def target_table() -> TargetTable:
    """All target rules, built once: ours, then the taxonomy's spellings that ours do not read."""
    ours = [(taxonomy.canonical(rule.label), rule.pattern, rule.keys) for rule in PHRASE_RULES]
    our_regex = re.compile("|".join(f"(?:{rule.pattern})" for rule in PHRASE_RULES), re.IGNORECASE)
    from_taxonomy: list[tuple[str, str, tuple[str, ...]]] = []
    for label in taxonomy.LABELS.values():
        if label.name in UNEXTRACTED_LABELS:
            continue
        for spelling in (label.name, *label.synonyms):
            if spelling.lower() in GENERIC_SPELLINGS or our_regex.fullmatch(spelling):
                continue
            from_taxonomy.append((label.name, _literal_pattern(spelling), _literal_keys(spelling)))
    # At one start position the first alternative wins, so the phrases needing the most text go
    # first ("nodule or mass" before "nodule"); the sort is stable, so ours win ties.
    rules = sorted([*ours, *from_taxonomy], key=lambda rule: -_shortest_match(rule[1]))
    return TargetTable(
        patterns=tuple(rule[1] for rule in rules),
        labels=tuple(rule[0] for rule in rules),
        keys=tuple(rule[2] for rule in rules),
    )


def _shortest_match(pattern: str) -> int:
    """The fewest characters ``pattern`` can match, from the regex parser's own width bounds."""
    # The parser is private but stable since Python 3.11; this runs once, at build time.
    return int(re._parser.parse(pattern).getwidth()[0])  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class TargetMatch:
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class _KeyGroup:
    """The rules gated by one key tuple, as one alternation compiled at build time."""

    keys: tuple[str, ...]
    regex: re.Pattern[str]
    rules: tuple[int, ...]  # group ``t{i}`` of ``regex`` is rule ``rules[i]``


@cache
def _key_groups() -> tuple[_KeyGroup, ...]:
    table = target_table()
    members: dict[tuple[str, ...], list[int]] = {}
    for rule, keys in enumerate(table.keys):
        members.setdefault(keys, []).append(rule)
    groups = []
    for keys, rules in members.items():
        body = "|".join(f"(?P<t{i}>{table.patterns[rule]})" for i, rule in enumerate(rules))
        regex = re.compile(rf"\b(?:{body})\b", re.IGNORECASE)
        groups.append(_KeyGroup(keys, regex, tuple(rules)))
    return tuple(groups)


@cache
def _groups_by_key() -> dict[str, tuple[_KeyGroup, ...]]:
    index: dict[str, list[_KeyGroup]] = {}
    for group in _key_groups():
        for key in group.keys:
            index.setdefault(key, []).append(group)
    return {key: tuple(groups) for key, groups in index.items()}


def find_targets(text: str) -> list[TargetMatch]:
    """Every finding mention in ``text``, leftmost first, never overlapping.

    Only the rule groups whose key occurs in the text run (a substring test each), and all
    regexes are compiled once, so the cost does not depend on which rules a report wakes.
    Where matches overlap, the leftmost wins, and at one start the rule first in
    ``target_table()`` order (the one needing the most text) wins, as in one big alternation.
    """
    lowered = text.lower()
    live: dict[int, _KeyGroup] = {}
    for key, groups in _groups_by_key().items():
        if key in lowered:
            for group in groups:
                live[id(group)] = group
    candidates: list[tuple[int, int, int]] = []  # (start, rule order, end)
    for group in live.values():
        for match in group.regex.finditer(text):
            rule = group.rules[int(match.lastgroup[1:])]  # type: ignore[index]
            candidates.append((match.start(), rule, match.end()))
    candidates.sort()
    labels = target_table().labels
    found: list[TargetMatch] = []
    last_end = 0
    for start, rule, end in candidates:
        if start >= last_end:
            found.append(TargetMatch(start, end, labels[rule]))
            last_end = end
    return found
