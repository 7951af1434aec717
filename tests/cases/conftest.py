"""Case library fixtures: a private MEDIA_ROOT per test, and small cases built through services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cases.factories import CANARY_BOX, CANARY_REPORT, CANARY_SENTENCE, make_case  # noqa: F401


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root
