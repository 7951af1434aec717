"""The cohort pages that read thousands of stored results (findings and FROC, pre/post) are cached
per cohort and invalidated by any new or changed attempt of its residents: the key carries the
residents, the page's parameters and a fingerprint of the residents' weekly summaries (rows and
the sum of their versions), which every submit, score and re-score raises (the lifecycle's
``attempt_recorded`` hook). The caller checks who may see the cohort before asking, so the cache
never widens what anyone sees.

A "last N days" filter slides with the clock: its cached figures may lag by up to ``TIMEOUT``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Count, Sum

from .models import AttemptWeek

TIMEOUT = 300  # seconds
T = TypeVar("T")


def fingerprint(user_ids: list[int]) -> tuple[int, int]:
    """Changes whenever an attempt of these users is recorded: one query."""
    row = AttemptWeek.objects.filter(user_id__in=user_ids).aggregate(
        rows=Count("pk"), versions=Sum("version")
    )
    return row["rows"], row["versions"] or 0


def cohort_cached(
    page: str,
    cohort_id: int,
    user_ids: list[int],
    params: Mapping[str, Any],
    compute: Callable[[], T],
) -> T:
    """``compute()`` for this cohort page, from the cache while nothing was recorded since."""
    parts = [page, cohort_id, sorted(user_ids), sorted(params.items()), fingerprint(user_ids)]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    key = f"analytics:{page}:{cohort_id}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value
