"""Lexical overlap with the reference: BLEU-2 and ROUGE-L F1, reported beside the clinical score.

They reward copying the reference's words, not reading the film, so they are never the score.

- BLEU-2: sacreBLEU's sentence BLEU with n-grams up to 2, its 13a tokenizer, lower-cased, with
  effective order (a one-word candidate is not zeroed for lacking bigrams), scaled to [0, 1].
- ROUGE-L: F1 of the longest common subsequence of tokens, with rouge-score's tokenizer and
  Porter stemmer (the package's defaults with ``use_stemmer=True``). Its pure-Python LCS table
  and uncached stemmer cost more than the rest of scoring together, so the stems are cached and
  the LCS length is computed bit-parallel (Allison and Dix, 1986; Hyyrö, 2004). The result equals
  ``RougeScorer(["rougeL"], use_stemmer=True)`` (a test compares them).
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any


@cache
def _bleu() -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(max_ngram_order=2, effective_order=True, lowercase=True)


class _CachedStemmer:
    """rouge-score's Porter stemmer with memoised stems: report vocabulary is small."""

    def __init__(self) -> None:
        from nltk.stem import porter

        self.stem = lru_cache(maxsize=65536)(porter.PorterStemmer().stem)


@cache
def _stemmer() -> _CachedStemmer:
    return _CachedStemmer()


@lru_cache(maxsize=8192)
def rouge_tokens(text: str) -> tuple[str, ...]:
    """rouge-score's tokens of ``text``: lower-cased, alphanumeric, stems of words over 3 letters."""
    from rouge_score import tokenize

    return tuple(tokenize.tokenize(text, _stemmer()))


def lcs_length(first: tuple[str, ...], second: tuple[str, ...]) -> int:
    """Length of the longest common subsequence of two token sequences, bit-parallel."""
    if not first or not second:
        return 0
    positions: dict[str, int] = {}
    for index, token in enumerate(first):
        positions[token] = positions.get(token, 0) | (1 << index)
    full = (1 << len(first)) - 1
    row = full
    for token in second:
        matches = row & positions.get(token, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(first) - row.bit_count()


def bleu2(reference: str, candidate: str) -> float:
    """Sentence BLEU-2 of ``candidate`` against ``reference``, in [0, 1]."""
    return round(_bleu().sentence_score(candidate, [reference]).score / 100.0, 4)


def rouge_l(reference: str, candidate: str) -> float:
    """ROUGE-L F1 of ``candidate`` against ``reference``, in [0, 1]."""
    target, prediction = rouge_tokens(reference), rouge_tokens(candidate)
    common = lcs_length(target, prediction)
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(target)
    return round(2 * precision * recall / (precision + recall), 4)


def lexical_scores(reference: str, candidate: str) -> dict[str, float]:
    return {"bleu2": bleu2(reference, candidate), "rougeL": rouge_l(reference, candidate)}
