"""Finding extraction: a findings text to a tuple of ``Finding`` records.

The pipeline, all our own rules, with no model and no spaCy:

1. ``sentences.split_sentences`` finds sentence spans; those under another examination's
   heading ("2. Left knee. Joint effusion.") are left out (``sections``).
2. The target matcher of ``vocabulary`` (our ``phrases`` and the taxonomy) finds the mentions.
3. ``context.presences`` (the ConText algorithm, with the cue phrases of ``modifiers``) marks
   each mention present, absent, uncertain or hypothetical; hypothetical mentions ("rule out
   pneumonia") are dropped.
4. Post-rules: a differential ("atelectasis or pneumonia") makes every alternative uncertain; a
   synonym in parentheses ("airspace opacities (infiltration)") is one finding with the
   parenthesised, more exact name; a generic "opacity" explained by a specific diagnosis in the
   same sentence ("left basal opacity, likely atelectasis") is folded into it.
5. Side, zone, severity, size and change are read from each mention's clause (``attributes``).
   A mention with two coordinated sides ("moderate left and small right effusions") is two
   findings, one per side, each with its own grade: they are two instances to compare.
6. Normal statements (``normals``) add an implied absent finding for each finding they cover that the report
   does not mention explicitly.

Results are cached by text: a case's reference report is scored against many residents.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from itertools import pairwise

from ml import taxonomy
from ml.report_metrics import attributes as attrs
from ml.report_metrics.context import presences
from ml.report_metrics.findings import Finding, Presence, Span
from ml.report_metrics.normals import compiled_normal_statements
from ml.report_metrics.sections import out_of_scope
from ml.report_metrics.sentences import split_sentences
from ml.report_metrics.vocabulary import TargetMatch, find_targets

_GENERIC_LABELS = frozenset({"Lung opacity"})
# Signs a diagnosis in the same sentence explains ("consolidation, likely pneumonia"); unlike a
# bare opacity they stay findings when the sentence only lists alternatives ("... or ...").
_SIGN_LABELS = frozenset({"Lung opacity", "Consolidation", "Infiltration"})
# The text between two alternatives: "or", "versus", "vs.", with an unmatched alternative
# before it ("atelectasis, aspiration or pneumonia") and a few qualifiers after ("or early").
_DIFFERENTIAL_LINK = re.compile(
    r"\s*,?\s*(?:[a-z]+\s*,?\s+)?(?:or|versus|vs\.?|v\.|and/or)\s+(?:[a-z]+\s+){0,3}",
    re.IGNORECASE,
)
_LIST_LINK = re.compile(r"\s*,\s*")
# "opacities (infiltration)", "enlarged (cardiomegaly)": a name given in parentheses.
_PARENTHESIS_GAP = re.compile(r"\s*\(\s*")
# Words that tie a generic opacity to the diagnosis that explains it.
_EXPLAINS = re.compile(
    r"\b(?:likely|probably|possibly|possible|probable|represent\w*|reflect\w*|suggest\w*"
    r"|concerning|suspicious|consistent|compatible|keeping|due|secondary|relat\w*|favou?r\w*"
    r"|or|versus|vs|may|could|might)\b",
    re.IGNORECASE,
)
_EXPLAINS_SIGN = re.compile(
    r"\b(?:likely|probably|possibly|possible|probable|represent\w*|reflect\w*|suggest\w*"
    r"|concerning|suspicious|consistent|compatible|keeping|due|secondary|favou?r\w*"
    r"|may|could|might)\b",
    re.IGNORECASE,
)


def warm_up() -> None:
    """Compile the target and cue tables now rather than on the first report."""
    extract_findings("No pneumothorax.")


@lru_cache(maxsize=8192)
def extract_findings(text: str) -> tuple[Finding, ...]:
    """Every finding statement in ``text``, in reading order (implied negatives last)."""
    sentences = split_sentences(text)
    outside = out_of_scope(text, sentences)
    mentions = _mentions(text, sentences, outside)
    mentions = _fold_parenthesised_synonyms(text, mentions)
    mentions = _fold_generic_opacities(text, mentions)
    findings = [finding for mention in mentions for finding in _findings(text, mention)]
    findings.extend(_implied_negatives(text, sentences, findings, outside))
    return tuple(findings)


def extract_many(texts: Iterable[str]) -> list[tuple[Finding, ...]]:
    """``extract_findings`` for many texts; repeated texts are read once."""
    return [extract_findings(text) for text in texts]


class _Mention:
    """A target mention while the post-rules work on it (mutable, unlike ``Finding``)."""

    __slots__ = ("attributes", "hedge", "label", "presence", "sentence", "span", "system")

    def __init__(
        self, label: str, span: Span, sentence: Span, presence: Presence, hedge: str | None
    ) -> None:
        self.label = label
        self.span = span
        self.sentence = sentence
        self.presence: Presence = presence
        self.hedge = hedge
        self.system: str = taxonomy.LABELS[label].system
        self.attributes: attrs.Attributes | None = None


def _mentions(text: str, sentences: Sequence[Span], outside: frozenset[Span]) -> list[_Mention]:
    targets = find_targets(text)
    if not targets or not sentences:
        return []
    starts = [start for start, _ in sentences]
    by_sentence: dict[int, list[TargetMatch]] = {}
    for target in targets:
        index = max(0, bisect_right(starts, target.start) - 1)
        by_sentence.setdefault(index, []).append(target)
    mentions: list[_Mention] = []
    for index, members in by_sentence.items():
        sentence = sentences[index]
        if sentence in outside:  # written under another examination's heading
            continue
        spans = [(target.start, target.end) for target in members]
        for target, (presence, hedge) in zip(
            members, presences(text, sentence, spans), strict=True
        ):
            if presence is not None:  # a hypothetical mention says nothing about the patient
                mentions.append(
                    _Mention(target.label, (target.start, target.end), sentence, presence, hedge)
                )
    _mark_differentials(text, mentions)
    _read_attributes(text, mentions)
    return mentions


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
                # A differential names its alternatives as the leading explanations, unless a
                # cue already weakened them ("may represent infection or edema").
                if member.presence == "present":
                    member.presence, member.hedge = "uncertain", "probable"


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
    return replace(
        target,
        laterality=target.laterality or source.laterality,
        zones=target.zones or source.zones,
        severity=target.severity or source.severity,
        severity_range=target.severity_range or source.severity_range,
        change=target.change or source.change,
        size_mm=target.size_mm or source.size_mm,
        instances=target.instances or source.instances,
    )


def _fold_generic_opacities(text: str, mentions: list[_Mention]) -> list[_Mention]:
    """Drop an "opacity" that a specific lung diagnosis in its sentence explains."""
    dropped: set[int] = set()
    for index, generic in enumerate(mentions):
        if generic.label not in _SIGN_LABELS or generic.presence == "absent":
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
        or specific.label in _SIGN_LABELS
        or specific.system != "lungs"
        or specific.presence == "absent"
    ):
        return False
    if specific.span[1] <= generic.span[0]:
        # "Consolidative opacity", "atelectatic opacity": the adjective is the diagnosis.
        return (
            generic.label in _GENERIC_LABELS
            and text[specific.span[1] : generic.span[0]].strip() == ""
        )
    gap = text[generic.span[1] : specific.span[0]]
    explains = _EXPLAINS if generic.label in _GENERIC_LABELS else _EXPLAINS_SIGN
    return len(gap) <= 60 and ";" not in gap and explains.search(gap) is not None


def _fold_parenthesised_synonyms(text: str, mentions: list[_Mention]) -> list[_Mention]:
    """ "X (Y)" names one finding: keep Y, the name the writer chose to be exact, with X's span
    folded in, unless Y is the generic one."""
    kept: list[_Mention] = []
    for mention in mentions:
        previous = kept[-1] if kept else None
        if (
            previous is not None
            and previous.sentence == mention.sentence
            and _PARENTHESIS_GAP.fullmatch(text[previous.span[1] : mention.span[0]])
        ):
            outer, inner = previous, mention
            keep = outer if inner.label in _GENERIC_LABELS else inner
            keep.attributes = _inherit_location(
                keep.attributes, (inner if keep is outer else outer).attributes
            )
            keep.presence, keep.hedge = outer.presence, outer.hedge
            keep.span = (
                outer.span[0],
                inner.span[1] + (1 if text[inner.span[1] : inner.span[1] + 1] == ")" else 0),
            )
            kept[-1] = keep
            continue
        kept.append(mention)
    return kept


def _findings(text: str, mention: _Mention) -> list[Finding]:
    """One finding per mention, or one per side when the mention coordinates two sides."""
    attributes = mention.attributes
    assert attributes is not None  # set by _read_attributes for every mention
    start, end = mention.span
    instances = attributes.instances or ((attributes.laterality, attributes.severity_range),)
    findings = []
    for laterality, severity_range in instances:
        severity = attributes.severity
        if attributes.instances and severity_range is not None:
            severity = attrs.severity_word(severity_range[1])
        findings.append(
            Finding(
                label=mention.label,
                presence=mention.presence,
                laterality=laterality,
                zone=attributes.zones[0] if attributes.zones else None,
                severity=severity,
                change=attributes.change,
                span=mention.span,
                sentence_span=mention.sentence,
                text=text[start:end],
                zones=attributes.zones,
                severity_range=severity_range,
                size_mm=attributes.size_mm,
                hedge=mention.hedge if mention.presence == "uncertain" else None,
            )
        )
    return findings


def _implied_negatives(
    text: str, sentences: Sequence[Span], explicit: list[Finding], outside: frozenset[Span]
) -> list[Finding]:
    mentioned = {finding.label for finding in explicit}
    implied: list[Finding] = []
    starts = [start for start, _ in sentences]
    for regex, statement in compiled_normal_statements():
        for match in regex.finditer(text):
            sentence = sentences[max(0, bisect_right(starts, match.start()) - 1)]
            if sentence in outside:
                continue
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
