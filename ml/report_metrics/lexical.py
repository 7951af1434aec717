"""Lexical overlap with the reference: BLEU-2 and ROUGE-L F1, reported beside the clinical score.

They reward copying the reference's words, not reading the film, so they are never the score.

- BLEU-2: sacreBLEU's sentence BLEU with n-grams up to 2, its 13a tokenizer, lower-cased, with
  effective order (a one-word candidate is not zeroed for lacking bigrams), scaled to [0, 1].
- ROUGE-L: F1 of the longest common subsequence of tokens (rouge-score, Porter stemmer).
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _bleu() -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(max_ngram_order=2, effective_order=True, lowercase=True)


@cache
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def bleu2(reference: str, candidate: str) -> float:
    """Sentence BLEU-2 of ``candidate`` against ``reference``, in [0, 1]."""
    return round(_bleu().sentence_score(candidate, [reference]).score / 100.0, 4)


def rouge_l(reference: str, candidate: str) -> float:
    """ROUGE-L F1 of ``candidate`` against ``reference``, in [0, 1]."""
    return round(_rouge().score(reference, candidate)["rougeL"].fmeasure, 4)


def lexical_scores(reference: str, candidate: str) -> dict[str, float]:
    return {"bleu2": bleu2(reference, candidate), "rougeL": rouge_l(reference, candidate)}
