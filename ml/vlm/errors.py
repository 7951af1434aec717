"""Errors raised by the model backends, split by what a caller should do about them."""

from __future__ import annotations


class ModelBackendError(RuntimeError):
    """A model backend failed; subclasses say whether trying again can help."""


class BackendUnavailableError(ModelBackendError):
    """Transient: the endpoint timed out, refused the connection or answered 429/5xx after the
    retries. A worker should retry the job later (and may fall back to the knowledge base)."""


class BackendResponseError(ModelBackendError):
    """Permanent for this input: the endpoint rejected the request (4xx) or answered something
    that is not a chat completion. Retrying the same request will not help."""
