"""Game fixtures: the lifecycle's (cases playable in both exercises, practice and assessment sets
assigned to the resident's cohort, and submitting through either exercise)."""

from __future__ import annotations

from tests.exercises.conftest import _media_root, both, localize, report  # noqa: F401
