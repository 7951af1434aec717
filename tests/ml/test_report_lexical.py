"""BLEU-2 and ROUGE-L against hand-computed values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml.report_metrics.lexical import bleu2, lcs_length, lexical_scores, rouge_l


def test_bleu2_matches_the_published_formula() -> None:
    # Unigram precision 5/6, bigram precision 3/5, equal lengths so no brevity penalty.
    expected = math.sqrt(5 / 6 * 3 / 5)

    assert bleu2("the cat is on the mat", "the cat sat on the mat") == pytest.approx(
        expected, abs=1e-4
    )


def test_bleu2_applies_the_brevity_penalty() -> None:
    # All of "the cat" is in the reference, but it is 2 tokens against 6: BP = exp(1 - 6/2).
    assert bleu2("the cat is on the mat", "the cat") == pytest.approx(math.exp(-2), abs=1e-4)


def test_rouge_l_is_the_f1_of_the_longest_common_subsequence() -> None:
    # LCS "the cat on the mat" = 5 of 6 tokens each way.
    assert rouge_l("the cat is on the mat", "the cat sat on the mat") == pytest.approx(
        5 / 6, abs=1e-4
    )


def test_identical_and_disjoint_texts() -> None:
    assert lexical_scores("Small left effusion.", "Small left effusion.") == {
        "bleu2": 1.0,
        "rougeL": 1.0,
    }
    assert lexical_scores("Small left effusion.", "Heart normal") == {"bleu2": 0.0, "rougeL": 0.0}


def test_case_does_not_matter() -> None:
    assert bleu2("Small Left Effusion", "small left effusion") == 1.0


_WORDS = st.sampled_from(
    ["the", "left", "right", "effusion", "effusions", "small", "no", "pneumothorax", "is", "seen"]
)


@settings(max_examples=200)
@given(st.lists(_WORDS, max_size=30), st.lists(_WORDS, max_size=30))
def test_rouge_l_equals_the_rouge_score_package(first: list[str], second: list[str]) -> None:
    from rouge_score import rouge_scorer

    reference, candidate = " ".join(first), " ".join(second)
    expected = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(reference, candidate)

    assert rouge_l(reference, candidate) == pytest.approx(expected["rougeL"].fmeasure, abs=1e-4)


@given(
    st.lists(st.sampled_from("abcd"), max_size=40), st.lists(st.sampled_from("abcd"), max_size=40)
)
def test_bit_parallel_lcs_equals_the_textbook_table(first: list[str], second: list[str]) -> None:
    table = [[0] * (len(second) + 1) for _ in range(len(first) + 1)]
    for i, a in enumerate(first, 1):
        for j, b in enumerate(second, 1):
            table[i][j] = (
                table[i - 1][j - 1] + 1 if a == b else max(table[i - 1][j], table[i][j - 1])
            )

    assert lcs_length(tuple(first), tuple(second)) == table[-1][-1]
