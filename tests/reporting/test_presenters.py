"""Feedback presentation: sentence highlights cut from the spans, tolerant of odd results."""

from __future__ import annotations

from apps.reporting.presenters import feedback, segments, significance


def test_segments_cover_the_text_exactly_and_nest_overlaps() -> None:
    text = "One. Two three. Four."
    pieces = segments(text, [(5, 15, 1, "location"), (9, 15, 2, "severity")])
    assert "".join(p.text for p in pieces) == text
    assert [(p.text, p.errors, p.ends) for p in pieces] == [
        ("One. ", [], []),
        ("Two ", [1], []),
        ("three.", [1, 2], [1, 2]),
        (" Four.", [], []),
    ]


def test_errors_highlight_whole_sentences_and_fall_back_to_the_same_label() -> None:
    reference = "Heart normal. Small left effusion. No pneumothorax."
    candidate = "Heart normal. No effusion."
    result = {
        "errors": [
            {
                "category": "missed_finding",
                "label": "Effusion",
                "weight": 1.0,
                "reference_span": [25, 33],
                "candidate_span": None,
                "message": "Missed.",
            },
            {
                "category": "unsupported_comparison",
                "label": None,
                "weight": 0.25,
                "reference_span": None,
                "candidate_span": [99, 120],
                "message": "Out of range.",
            },
        ],
        "candidate_findings": [
            {"label": "Effusion", "presence": "absent", "span": [17, 25], "sentence_span": [14, 26]}
        ],
        "reference_findings": [],
    }
    view = feedback(result, candidate=candidate, reference=reference)
    marked_ref = [p.text for p in view.reference if p.errors]
    marked_cand = [p.text for p in view.candidate if p.errors]
    assert marked_ref == ["Small left effusion."]  # the sentence, found by punctuation
    assert marked_cand == ["No effusion."]  # the resident's own statement about the finding
    assert [e.significance for e in view.errors] == ["urgent", "not actionable"]
    assert view.errors[1].in_candidate is False  # an out-of-range span is ignored, not fatal
    assert [e.number for e in view.omissions] == [1]


def test_garbage_results_render_empty_not_crash() -> None:
    view = feedback(
        {
            "errors": ["x", None, {"candidate_span": "0:3"}],
            "style": "bad",
            "lexical": {"bleu2": "high", "rougeL": 0.4},
        },
        candidate="abc",
        reference="def",
    )
    assert len(view.errors) == 1 and view.errors[0].category == "other"
    assert view.style == [] and view.lexical == {"rougeL": 0.4}
    assert view.clinical_percent is None
    assert significance(None) == "unknown significance" and significance(0) == "benign"
