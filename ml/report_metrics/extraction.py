"""Finding extraction: a findings text to a tuple of ``Finding`` records.

The pipeline, built once per process:

1. ``sentences.split_sentences`` finds sentence spans (our own rules; PyRuSH is slow and logs).
2. The target rules of ``vocabulary`` find finding mentions; each becomes a spaCy entity on a
   blank English tokenizer, with our sentence boundaries set on the tokens.
3. medspaCy's ConText, loaded with only our rule set (``modifiers.CONTEXT_PHRASES``), marks each
   entity negated, uncertain or hypothetical.
4. Post-rules ConText cannot express: a differential ("atelectasis or pneumonia") makes every
   alternative uncertain; a generic "opacity" explained by a specific diagnosis in the same
   sentence ("left basal opacity, likely atelectasis") is folded into it; hypothetical mentions
   ("rule out pneumonia") are dropped.
5. Side, zone, severity and change are read from each mention's clause (``attributes``).
6. Normal statements add an implied absent finding for each finding they cover that the report
   does not mention explicitly.

Results are cached by text: a case's reference report is scored against many residents.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from ml import taxonomy
from ml.report_metrics import attributes as attrs
from ml.report_metrics.findings import Finding, Presence, Span
from ml.report_metrics.modifiers import (
    CONTEXT_PHRASES,
    HYPOTHETICAL,
    NEW_FINDING_OPENERS,
    TERMINATE,
)
from ml.report_metrics.sentences import split_sentences
from ml.report_metrics.vocabulary import compiled_normal_statements, find_targets

if TYPE_CHECKING:
    from spacy.language import Language

_GENERIC_LABELS = frozenset({"Lung opacity"})
# ConText compares every modifier of a sentence with every other, so a crafted run-on sentence
# ("no no no ... effusion") costs quadratic time; no real sentence is this long.
MAX_SENTENCE_TOKENS = 120
# The text between two alternatives: "or", "versus", "vs.", with an unmatched alternative
# before it ("atelectasis, aspiration or pneumonia") and a few qualifiers after ("or early").
_DIFFERENTIAL_LINK = re.compile(
    r"\s*,?\s*(?:[a-z]+\s*,?\s+)?(?:or|versus|vs\.?|v\.|and/or)\s+(?:[a-z]+\s+){0,3}",
    re.IGNORECASE,
)
_LIST_LINK = re.compile(r"\s*,\s*")
# Words that tie a generic opacity to the diagnosis that explains it.
_EXPLAINS = re.compile(
    r"\b(?:likely|probably|possibly|possible|probable|represent\w*|reflect\w*|suggest\w*"
    r"|concerning|suspicious|consistent|compatible|keeping|due|secondary|related|favou?r\w*"
    r"|or|versus|vs|may|could|might)\b",
    re.IGNORECASE,
)


@cache
def _pipeline() -> tuple[Language, Any]:
    """A blank spaCy tokenizer and a ConText loaded with our rules only."""
    import spacy
    from medspacy.context import ConText, ConTextRule

    nlp = spacy.blank("en")
    context = ConText(nlp, rules=None)
    rules = [
        ConTextRule(literal, category, direction=direction, max_scope=max_scope)
        for literal, category, direction, max_scope in CONTEXT_PHRASES
    ]
    rules.append(
        ConTextRule(
            "comma or 'and' opening a new finding",
            TERMINATE,
            direction="TERMINATE",
            pattern=[
                {"LOWER": {"IN": [",", "and"]}},
                {"LOWER": {"IN": list(NEW_FINDING_OPENERS)}},
            ],
        )
    )
    context.add(rules)
    return nlp, context


def warm_up() -> None:
    """Build the pipeline and matchers now rather than on the first report."""
    extract_findings("No pneumothorax.")


@lru_cache(maxsize=8192)
def extract_findings(text: str) -> tuple[Finding, ...]:
    """Every finding statement in ``text``, in reading order (implied negatives last)."""
    sentences = split_sentences(text)
    mentions = _mentions(text, sentences)
    mentions = _fold_generic_opacities(text, mentions)
    findings = [_finding(text, mention) for mention in mentions]
    findings.extend(_implied_negatives(text, sentences, findings))
    return tuple(findings)


def extract_many(texts: Iterable[str]) -> list[tuple[Finding, ...]]:
    """``extract_findings`` for many texts; repeated texts are read once."""
    return [extract_findings(text) for text in texts]


class _Mention:
    """A target mention while the post-rules work on it (mutable, unlike ``Finding``)."""

    __slots__ = ("attributes", "label", "presence", "sentence", "span", "system")

    def __init__(self, label: str, span: Span, sentence: Span, presence: Presence) -> None:
        self.label = label
        self.span = span
        self.sentence = sentence
        self.presence: Presence = presence
        self.system: str = taxonomy.LABELS[label].system
        self.attributes: attrs.Attributes | None = None


def _mentions(text: str, sentences: Sequence[Span]) -> list[_Mention]:
    targets = find_targets(text)
    if not targets or not sentences:
        return []
    nlp, context = _pipeline()
    doc = nlp.make_doc(text)
    starts = [start for start, _ in sentences]
    _set_sentence_starts(doc, starts)
    entities = []
    last_token_end = 0
    for target in targets:
        entity = doc.char_span(
            target.start, target.end, label=target.label, alignment_mode="expand"
        )
        # Two mentions inside one token ("PICC-line") would overlap as entities.
        if entity is None or entity.start < last_token_end:
            continue
        entities.append(entity)
        last_token_end = entity.end
    if not entities:
        return []
    doc.ents = entities
    context(doc)
    mentions: list[_Mention] = []
    for entity in entities:
        modifiers = {modifier.category for modifier in entity._.modifiers}
        if HYPOTHETICAL in modifiers:
            continue
        presence: Presence = "present"
        if entity._.is_uncertain:
            presence = "uncertain"
        elif entity._.is_negated:
            presence = "absent"
        start, end = entity.start_char, entity.end_char
        sentence = sentences[max(0, bisect_right(starts, start) - 1)]
        mentions.append(_Mention(entity.label_, (start, end), sentence, presence))
    _mark_differentials(text, mentions)
    _read_attributes(text, mentions)
    return mentions


def _set_sentence_starts(doc: Any, starts: list[int]) -> None:
    # One array write: setting token.is_sent_start one token at a time re-checks the whole
    # doc's annotation on every call and cost more than the rest of extraction.
    import numpy as np
    from spacy.attrs import SENT_START

    flags = np.full((len(doc), 1), -1, dtype=np.int64)
    pending = iter(starts)
    next_start = next(pending, None)
    since_start = 0
    for token in doc:
        opens = token.i == 0 or since_start >= MAX_SENTENCE_TOKENS
        while next_start is not None and token.idx >= next_start:
            opens = True
            next_start = next(pending, None)
        if opens:
            flags[token.i, 0] = 1
            since_start = 0
        since_start += 1
    # spaCy stores "not a start" as -1 in unsigned form.
    doc.from_array([SENT_START], flags.astype(np.uint64))


def _mark_differentials(text: str, mentions: list[_Mention]) -> None:
    """In "A, B or C" / "A versus B" chains of unnegated mentions, every member is uncertain."""
    index = 0
    while index < len(mentions):
        chain = [mentions[index]]
        has_alternative = False
        while index + 1 < len(mentions):
            current, following = mentions[index], mentions[index + 1]
            if current.sentence != following.sentence:
                break
            gap = text[current.span[1] : following.span[0]]
            if _DIFFERENTIAL_LINK.fullmatch(gap):
                has_alternative = True
            elif not _LIST_LINK.fullmatch(gap):
                break
            chain.append(following)
            index += 1
        index += 1
        if has_alternative and all(member.presence != "absent" for member in chain):
            for member in chain:
                member.presence = "uncertain"


def _read_attributes(text: str, mentions: list[_Mention]) -> None:
    by_sentence: dict[Span, list[_Mention]] = {}
    for mention in mentions:
        by_sentence.setdefault(mention.sentence, []).append(mention)
    for sentence, members in by_sentence.items():
        spans = [member.span for member in members]
        for member, window in zip(members, attrs.windows(text, sentence, spans), strict=True):
            member.attributes = attrs.read_attributes(
                text,
                window,
                member.span,
                member.system,
                own_clause_only=member.system == "devices",
            )
        _share_location_in_differentials(text, members)


def _share_location_in_differentials(text: str, members: list[_Mention]) -> None:
    # "Left lower lobe atelectasis or pneumonia": both alternatives are at the left lower lobe.
    for first, second in pairwise(members):
        if not _DIFFERENTIAL_LINK.fullmatch(text[first.span[1] : second.span[0]]):
            continue
        for source, target in ((first, second), (second, first)):
            target.attributes = _inherit_location(target.attributes, source.attributes)


def _inherit_location(
    target: attrs.Attributes | None, source: attrs.Attributes | None
) -> attrs.Attributes | None:
    if target is None or source is None:
        return target
    return attrs.Attributes(
        laterality=target.laterality or source.laterality,
        zones=target.zones or source.zones,
        severity=target.severity or source.severity,
        severity_range=target.severity_range or source.severity_range,
        change=target.change or source.change,
    )


def _fold_generic_opacities(text: str, mentions: list[_Mention]) -> list[_Mention]:
    """Drop an "opacity" that a specific lung diagnosis in its sentence explains."""
    dropped: set[int] = set()
    for index, generic in enumerate(mentions):
        if generic.label not in _GENERIC_LABELS or generic.presence == "absent":
            continue
        for other_index, specific in enumerate(mentions):
            if not _explains(text, generic, specific):
                continue
            specific.attributes = _inherit_location(specific.attributes, generic.attributes)
            dropped.add(index)
            # The generic mention is one finding; it folds into the first diagnosis only,
            # unless that one is a differential alternative (then the next one shares it).
            if other_index + 1 >= len(mentions) or not _DIFFERENTIAL_LINK.fullmatch(
                text[specific.span[1] : mentions[other_index + 1].span[0]]
            ):
                break
    return [mention for index, mention in enumerate(mentions) if index not in dropped]


def _explains(text: str, generic: _Mention, specific: _Mention) -> bool:
    if (
        specific is generic
        or specific.sentence != generic.sentence
        or specific.label in _GENERIC_LABELS
        or specific.system != "lungs"
        or specific.presence == "absent"
    ):
        return False
    if specific.span[1] <= generic.span[0]:
        # "Consolidative opacity", "atelectatic opacity": the adjective is the diagnosis.
        return text[specific.span[1] : generic.span[0]].strip() == ""
    gap = text[generic.span[1] : specific.span[0]]
    return len(gap) <= 60 and ";" not in gap and _EXPLAINS.search(gap) is not None


def _finding(text: str, mention: _Mention) -> Finding:
    attributes = mention.attributes
    assert attributes is not None  # set by _read_attributes for every mention
    start, end = mention.span
    return Finding(
        label=mention.label,
        presence=mention.presence,
        laterality=attributes.laterality,
        zone=attributes.zones[0] if attributes.zones else None,
        severity=attributes.severity,
        change=attributes.change,
        span=mention.span,
        sentence_span=mention.sentence,
        text=text[start:end],
        zones=attributes.zones,
        severity_range=attributes.severity_range,
    )


def _implied_negatives(
    text: str, sentences: Sequence[Span], explicit: list[Finding]
) -> list[Finding]:
    mentioned = {finding.label for finding in explicit}
    implied: list[Finding] = []
    starts = [start for start, _ in sentences]
    for regex, statement in compiled_normal_statements():
        for match in regex.finditer(text):
            sentence = sentences[max(0, bisect_right(starts, match.start()) - 1)]
            for label in statement.covers:
                if label in mentioned or label not in taxonomy.LABELS:
                    continue
                mentioned.add(label)
                implied.append(
                    Finding(
                        label=label,
                        presence="absent",
                        laterality=None,
                        zone=None,
                        severity=None,
                        change=None,
                        span=(match.start(), match.end()),
                        sentence_span=sentence,
                        text=match.group(),
                        implied=True,
                    )
                )
    return implied
