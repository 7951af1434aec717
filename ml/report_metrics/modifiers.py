"""Modifier vocabularies: ConText rules for presence, and the attribute lexicons.

Presence (our documented rule set, run by our own ConText in context.py; spaCy is not used):

- absent: "no", "not", "without", "free of", "clear of", "negative for", "no evidence of",
  "absence of", "resolution of"; after the finding, "is not seen/identified", "is absent",
  "has resolved", "is no longer seen", "unlikely", "has been removed".
  "Unlikely" is read as absent: the reader leans negative and would not want it acted on.
  "Resolved" is absent (with change "resolved"): the finding is no longer there.
- uncertain: "possible", "probable", "likely", "questionable", "suspicious for", "concerning for",
  "suggestive of", "may/could represent", "may be", "cannot exclude", "cannot be excluded",
  "not excluded", "suspected", "borderline", "equivocal"; and a differential ("atelectasis or
  pneumonia", "scarring versus infiltrate"), where every alternative is uncertain and probable
  (the leading explanations, as "likely" names one), unless a weaker cue covers it.
  "Consistent with" and "compatible with" are present: the reader commits.
- dropped (not a statement about the patient): "rule out", "evaluate for", "assess for".
- not negation at all: "no change in", "no significant change", "without change", "no increase".
- scope ends at "but", "however", "although", "though", "whereas", "except", "aside from",
  "other than", "which", "there is/are", ";", and at a comma or "and" that opens a new finding
  with a size or an article ("no pneumothorax, small left effusion").
"""

from __future__ import annotations

import re
from typing import Final

NEGATED: Final = "NEGATED_EXISTENCE"
POSSIBLE: Final = "POSSIBLE_EXISTENCE"
# A hedge that leans positive ("likely", "suspicious for"): still uncertain, recorded as probable.
PROBABLE: Final = "PROBABLE_EXISTENCE"
HYPOTHETICAL: Final = "HYPOTHETICAL"
TERMINATE: Final = "TERMINATE"
PSEUDO: Final = "PSEUDO"

# (literal, category, direction, max_scope in tokens or None for the rest of the sentence)
CONTEXT_PHRASES: Final[tuple[tuple[str, str, str, int | None], ...]] = (
    *(
        (phrase, NEGATED, "FORWARD", None)
        for phrase in (
            "no",
            "not",
            "without",
            "free of",
            "clear of",
            "negative for",
            "no evidence of",
            "no sign of",
            "no signs of",
            "no radiographic evidence of",
            "absence of",
            "resolution of",
            "removal of",
            "neither",
            "nor",
            "no longer",
        )
    ),
    *(
        (phrase, NEGATED, "BACKWARD", 8)
        for phrase in (
            "not seen",
            "not identified",
            "not visualized",
            "not visualised",
            "not present",
            "not evident",
            "not appreciated",
            "not demonstrated",
            "not detected",
            "is absent",
            "are absent",
            "absent",
            "has resolved",
            "have resolved",
            "has cleared",
            "have cleared",
            "no longer seen",
            "no longer visualized",
            "no longer present",
            "no longer evident",
            "unlikely",
            "removed",
            "excluded",
        )
    ),
    ("resolved", NEGATED, "BIDIRECTIONAL", 4),
    # "Lungs are expanded and clear airspace disease": a dictation that dropped "of" still
    # clears the finding named right after a predicate "clear" ("clear hyperexpanded lungs" is
    # an adjective, and stays so).
    *((f"{verb} clear", NEGATED, "FORWARD", 0) for verb in ("is", "are", "and")),
    *((f"{verb} clear of", NEGATED, "FORWARD", None) for verb in ("is", "are", "and")),
    *(
        (phrase, POSSIBLE, "FORWARD", None)
        for phrase in (
            "possible",
            "possibly",
            "questionable",
            "question of",
            "may represent",
            "could represent",
            "might represent",
            "may reflect",
            "could reflect",
            "may be",
            "could be",
            "might be",
            "may have",
            "cannot exclude",
            "can't exclude",
            "cannot rule out",
            "differential includes",
            "differential diagnosis includes",
            "equivocal",
            "question",
            "may",
            "might",
            "could",
            "consider",
            "differential",
            "differential considerations include",
        )
    ),
    *(
        (phrase, PROBABLE, "FORWARD", None)
        for phrase in (
            "probable",
            "probably",
            "likely",
            "most likely",
            "suspicious for",
            "concerning for",
            "concern for",
            "concern is for",
            "suggestive of",
            "suggests",
            "suggesting",
            "suggest",
            "suggestion of",
            "presumed",
            "borderline",
        )
    ),
    *(
        (phrase, PROBABLE, "BACKWARD", 8)
        for phrase in ("is likely", "are likely", "is suspected", "are suspected")
    ),
    # "Granuloma vs. neoplasm": both sides of a differential are probable, as with "or".
    *((phrase, PROBABLE, "BIDIRECTIONAL", 2) for phrase in ("versus", "vs", "vs.", "v.")),
    *(
        (phrase, POSSIBLE, "BACKWARD", 8)
        for phrase in (
            "cannot be excluded",
            "can not be excluded",
            "cannot be ruled out",
            "not excluded",
            "not ruled out",
            "is possible",
            "is questioned",
            "not entirely excluded",
            "difficult to exclude",
            "difficult to entirely exclude",
            "are possible",
            "also possible",
        )
    ),
    ("suspected", PROBABLE, "BIDIRECTIONAL", None),
    *(
        (phrase, HYPOTHETICAL, "FORWARD", None)
        for phrase in (
            "rule out",
            "r/o",
            "evaluate for",
            "evaluation for",
            "assess for",
            "to exclude",
            "if",
            "if there is",
            "if there are",
            "history of",
            "correlation for",
            "correlate for",
            "symptoms of",
            "evaluation of",
            "could obscure",
            "may obscure",
        )
    ),
    *(
        (phrase, HYPOTHETICAL, "BACKWARD", 6)
        for phrase in ("may not be demonstrated", "may not be visible", "may not be seen")
    ),
    *(
        (phrase, PSEUDO, "PSEUDO", None)
        for phrase in (
            "no change",
            "no significant change",
            "no interval change",
            "no significant interval change",
            "no appreciable change",
            "not changed",
            "without change",
            "without significant change",
            "no increase",
            "no decrease",
            "not only",
            "no longer than",
            # "No pleural line to suggest pneumothorax": the negation decides, not "suggest".
            "to suggest",
            "to indicate",
        )
    ),
    *(
        (phrase, TERMINATE, "TERMINATE", None)
        for phrase in (
            "but",
            "however",
            "although",
            "though",
            "whereas",
            "while",
            "except",
            "aside from",
            "apart from",
            "other than",
            "with the exception of",
            "which",
            "there is",
            "there are",
            "there has been",
            "there have been",
            ";",
        )
    ),
)

# A comma or "and" followed by a size or an article opens a new, unnegated finding.
NEW_FINDING_OPENERS: Final[tuple[str, ...]] = (
    "a",
    "an",
    "trace",
    "tiny",
    "small",
    "mild",
    "moderate",
    "large",
    "severe",
    "minimal",
    "new",
    "left",
    "right",
    "bilateral",
    "the",
)

# --- Attribute lexicons (matched in the finding's clause, see extraction.attribute_window) ---

LATERALITY_WORDS: Final[dict[str, str]] = {
    "left": "left",
    "left-sided": "left",
    "right": "right",
    "right-sided": "right",
    "bilateral": "bilateral",
    "bilaterally": "bilateral",
    "both": "bilateral",
    "bibasilar": "bilateral",
    "bibasal": "bilateral",
    "biapical": "bilateral",
}
LATERALITY_RE: Final = re.compile(
    r"\b(left-sided|right-sided|left|right|bilateral(?:ly)?|both|bibasilar|bibasal|biapical)\b",
    re.IGNORECASE,
)

# Zone words, normalised; "lingula"/"middle lobe" are mid zone, "base" is basal.
ZONE_RE: Final = re.compile(
    r"\b(apical|apex|apices|biapical|upper|mid|middle|lingula(?:r)?|lower|basal|basilar|bases?"
    r"|bibasilar|bibasal|perihilar|retrocardiac|costophrenic)\b",
    re.IGNORECASE,
)
ZONE_WORDS: Final[dict[str, str]] = {
    "apical": "apical",
    "apex": "apical",
    "apices": "apical",
    "biapical": "apical",
    "upper": "upper",
    "mid": "mid",
    "middle": "mid",
    "lingula": "mid",
    "lingular": "mid",
    "lower": "lower",
    "basal": "basal",
    "basilar": "basal",
    "base": "basal",
    "bases": "basal",
    "bibasilar": "basal",
    "bibasal": "basal",
    "perihilar": "perihilar",
    "retrocardiac": "retrocardiac",
    "costophrenic": "costophrenic",
}
# Zones that describe the same part of the chest film: a reader saying "lower" where the
# reference says "basal" has the location right.
ZONE_GROUPS: Final[dict[str, str]] = {
    "apical": "top",
    "upper": "top",
    "mid": "middle",
    "perihilar": "middle",
    "lower": "bottom",
    "basal": "bottom",
    "retrocardiac": "bottom",
    "costophrenic": "bottom",
}

SEVERITY_RE: Final = re.compile(
    r"\b(trace|tiny|minimal|minute|small|slight(?:ly)?|mild(?:ly)?|moderate(?:ly)?"
    r"|large|severe(?:ly)?|marked(?:ly)?|massive|extensive)\b",
    re.IGNORECASE,
)
SEVERITY_WORDS: Final[dict[str, str]] = {
    "trace": "trace",
    "tiny": "trace",
    "minimal": "trace",
    "minute": "trace",
    "small": "small",
    "slight": "mild",
    "slightly": "mild",
    "mild": "mild",
    "mildly": "mild",
    "moderate": "moderate",
    "moderately": "moderate",
    "large": "large",
    "massive": "large",
    "extensive": "severe",
    "severe": "severe",
    "severely": "severe",
    "marked": "severe",
    "markedly": "severe",
}
# Ordinal scale: "small" and "mild" are the same grade, as are "large" and "severe".
SEVERITY_RANK: Final[dict[str, int]] = {
    "trace": 0,
    "small": 1,
    "mild": 1,
    "moderate": 2,
    "large": 3,
    "severe": 3,
}

CHANGE_RE: Final = re.compile(
    r"\b(new|newly|increas(?:ed|ing)|enlarging|worse(?:ned|ning)?|progress(?:ed|ion|ing)"
    r"|decreas(?:ed|ing)|improv(?:ed|ing)|smaller|diminish(?:ed|ing)|reduced|stable|unchanged"
    r"|persistent|persists|again\s+(?:seen|noted|demonstrated)|redemonstrated|similar"
    r"|no\s+(?:significant\s+|interval\s+)?change|resolv(?:ed|ing)|resolution|cleared)\b",
    re.IGNORECASE,
)


def normalise_change(word: str) -> str:
    """Map a change cue to one of new, increased, decreased, stable, resolved."""
    word = word.lower()
    if word.startswith("new"):
        return "new"
    if word.startswith(("increas", "enlarg", "wors", "progress")):
        return "increased"
    if word.startswith(("decreas", "improv", "smaller", "diminish", "reduced")):
        return "decreased"
    if word.startswith(("resolv", "resolution", "cleared")):
        return "resolved"
    return "stable"
