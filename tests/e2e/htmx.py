"""Waiting for htmx before acting: a click or blur that lands before htmx has processed an element
posts the form plainly or sends no request at all (seen in CI when the machine was busy)."""

from __future__ import annotations

from typing import Any


def htmx_ready(page: Any, selector: str, timeout: float = 15000) -> None:
    """Return once htmx has processed the element ``selector`` names."""
    page.wait_for_function(
        "(s) => !!(window.htmx && document.querySelector(s)"
        " && document.querySelector(s)['htmx-internal-data'])",
        arg=selector,
        timeout=timeout,
    )
