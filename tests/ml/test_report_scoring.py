"""``score_report``: the result shape of DESIGN.md, input validation, and a light import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml.report_metrics import (
    MAX_REPORT_CHARS,
    SCORER_VERSION,
    ReportInputError,
    score_many,
    score_report,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "Small left pleural effusion. No pneumothorax. Heart size is normal."
CANDIDATE = "Moderate right pleural effusion. Right pneumothorax. Stable heart."
FINDING_KEYS = {"label", "presence", "laterality", "zone", "severity", "change", "span"}
ERROR_KEYS = {"category", "label", "weight", "reference_span", "candidate_span", "message"}


def test_the_result_has_the_design_shape() -> None:
    result = score_report(REFERENCE, CANDIDATE)

    assert {
        "clinical_score",
        "clinical_percent",
        "style_score",
        "style",
        "reference_findings",
        "candidate_findings",
        "errors",
        "matched",
        "lexical",
        "scorer_version",
    } <= set(result)
    assert "alignment" not in result
    assert result["scorer_version"] == SCORER_VERSION
    for finding in result["reference_findings"] + result["candidate_findings"]:
        assert set(finding) >= FINDING_KEYS
        assert finding["presence"] in {"present", "absent", "uncertain"}
    assert {e["category"] for e in result["errors"]} == {
        "location",
        "severity",
        "false_finding",
        "unsupported_comparison",
    }
    for error in result["errors"]:
        assert set(error) >= ERROR_KEYS
    assert set(result["lexical"]) == {"bleu2", "rougeL"}
    json.dumps(result)  # plain JSON types only


def test_every_span_indexes_its_own_text() -> None:
    result = score_report(REFERENCE, CANDIDATE)

    for finding in result["candidate_findings"]:
        start, end = finding["span"]
        assert CANDIDATE[start:end] == finding["text"]
    for error in result["errors"]:
        if error["candidate_span"]:
            start, end = error["candidate_span"]
            assert 0 <= start < end <= len(CANDIDATE)
        if error["reference_span"]:
            start, end = error["reference_span"]
            assert 0 <= start < end <= len(REFERENCE)


def test_score_many_matches_score_report() -> None:
    cases = [validate(REFERENCE, CANDIDATE), validate(REFERENCE, REFERENCE, has_prior=True)]

    assert score_many(cases) == [
        score_report(REFERENCE, CANDIDATE),
        score_report(REFERENCE, REFERENCE, has_prior=True),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"candidate": ""}, "candidate", "empty"),
        ({"candidate": "   \n\t"}, "candidate", "empty"),
        ({"reference": " "}, "reference", "empty"),
        ({"candidate": "x" * (MAX_REPORT_CHARS + 1)}, "candidate", "limit"),
        ({"candidate": None}, "candidate", "text"),
        ({"age": -1}, "age", "between"),
        ({"age": 200}, "age", "between"),
        ({"age": True}, "age", "whole number"),
        ({"age": "54"}, "age", "whole number"),
        ({"indication": 5}, "indication", "text"),
        ({"indication": "x" * 1001}, "indication", "longer"),
        ({"has_prior": "yes"}, "has_prior", "true or false"),
        ({"align": 1}, "align", "true or false"),
    ],
)
def test_bad_inputs_raise_a_clear_error(
    kwargs: dict[str, object], field: str, fragment: str
) -> None:
    arguments: dict[str, object] = {"reference": REFERENCE, "candidate": CANDIDATE, **kwargs}

    with pytest.raises(ReportInputError) as raised:
        score_report(**arguments)  # type: ignore[arg-type]

    assert raised.value.field == field
    assert fragment in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_the_longest_allowed_report_is_scored() -> None:
    sentence = "Small left pleural effusion. "
    long_text = (sentence * (MAX_REPORT_CHARS // len(sentence)))[:MAX_REPORT_CHARS]

    assert score_report(REFERENCE, long_text)["clinical_score"] <= 1.0


def test_importing_the_package_stays_light() -> None:
    probe = (
        "import json, sys\n"
        "import ml.report_metrics, ml.cli.report\n"
        "heavy = ('spacy', 'medspacy', 'torch', 'transformers', 'sentence_transformers',"
        " 'sacrebleu', 'rouge_score')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
