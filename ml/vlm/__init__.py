"""Explanations of Localize feedback: why a finding was missed, wrongly named or not there.

Public API::

    from ml.config import MLConfig
    from ml.vlm import ExplainRequest, get_explainer

    explainer = get_explainer(MLConfig.from_env())
    explanation = explainer.explain(ExplainRequest(label="Nodule", error="missed", box=[...]))

Importing this package is cheap: the model backends (torch, transformers, httpx) load only when
``get_explainer`` builds one of them.
"""

from __future__ import annotations

from ml.config import MLConfig
from ml.vlm.errors import BackendResponseError, BackendUnavailableError, ModelBackendError
from ml.vlm.schema import (
    ERROR_KINDS,
    Explainer,
    ExplainRequest,
    ExplainRequestError,
    Explanation,
)

__all__ = [
    "ERROR_KINDS",
    "BackendResponseError",
    "BackendUnavailableError",
    "ExplainRequest",
    "ExplainRequestError",
    "Explainer",
    "Explanation",
    "ModelBackendError",
    "get_explainer",
]


def get_explainer(config: MLConfig) -> Explainer:
    """The explainer the configuration names. Model backends take their model from the process's
    registry (``ml.serving``): loaded on the first call, kept for the life of the process, and
    shared by concurrent callers through one batch collector."""
    from ml.vlm.knowledge import KnowledgeExplainer

    if config.explainer == "knowledge":
        return KnowledgeExplainer()
    from ml.serving.registry import registry_for
    from ml.vlm.model_explainer import ModelExplainer

    assert config.media_root is not None  # MLConfig refuses model explainers without one
    return ModelExplainer(
        registry_for(config).chat_model("explain"),
        media_root=config.media_root,
        with_crop=config.vlm_crop,
        max_new_tokens=config.explain_max_new_tokens,
    )
