"""The one domain error type: a form error in HTML, a 400 in the API."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    def __init__(
        self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
