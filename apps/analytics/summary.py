"""The weekly attempt summaries (``AttemptWeek``): after every submit, score and re-score commits,
that resident's week of that exercise is recounted from the attempt rows (one statement, so a
repeated call converges on the same row), and reconciled against a recount of every
attempt (``manage.py analytics_reconcile``; RELIABILITY R16).

Accuracy is the one rule of ``apps.progress.selectors``: first readings (``FIRST_READING``, not
after a reveal) with a score. The refresh writes it in SQL (``NOT post_reveal``); the recount
uses the ORM rule, so the reconciliation test checks the one against the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, FloatField, Max, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from apps.localization.models import LocalizationAttempt
from apps.progress.selectors import FIRST_READING
from apps.reporting.models import ReportAttempt

from .models import AttemptWeek

MODELS: dict[str, Any] = {"localize": LocalizationAttempt, "report": ReportAttempt}
COUNTS = ("attempts", "scored", "first_scored", "timed")
SUMS = ("first_score_sum", "time_sum")
Key = tuple[int, str, date]  # user, exercise, week


def week_of(when: datetime) -> date:
    """The Monday of the week ``when`` falls in, in the site's time zone."""
    day = timezone.localtime(when).date()
    return day - timedelta(days=day.weekday())


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


_REFRESH = """
INSERT INTO {week_table} (user_id, exercise, week, version, attempts, scored, first_scored,
    first_score_sum, timed, time_sum, last_at)
SELECT %s, %s, %s, 1, COUNT(*), COUNT(score),
    COUNT(CASE WHEN NOT post_reveal THEN score END),
    COALESCE(SUM(CASE WHEN NOT post_reveal THEN score END), 0.0),
    COUNT(time_taken_s), COALESCE(SUM(time_taken_s), 0.0), MAX(submitted_at)
FROM {attempt_table} WHERE user_id = %s AND submitted_at >= %s AND submitted_at < %s
ON CONFLICT (user_id, exercise, week) DO UPDATE SET
    attempts = EXCLUDED.attempts, scored = EXCLUDED.scored,
    first_scored = EXCLUDED.first_scored, first_score_sum = EXCLUDED.first_score_sum,
    timed = EXCLUDED.timed, time_sum = EXCLUDED.time_sum, last_at = EXCLUDED.last_at,
    version = {week_table}.version + 1
"""


LOCK_CLASS = 7301  # pg_advisory_xact_lock(LOCK_CLASS, user): one recount of a player at a time


def attempt_week_refresh(attempt: Any) -> None:
    """The ``attempt_recorded`` hook: recount the attempt's week for its player and exercise once
    the change is committed. Not inside the change's transaction: the summary row is shared by
    the player's concurrent transactions (a submit holding the player lock, scoring jobs), and
    locking it there deadlocked them (tests/reporting/test_concurrency.py). A failed recount is
    logged and left to ``analytics_reconcile``."""
    args = (attempt.user_id, str(attempt.EXERCISE), week_of(attempt.submitted_at))
    after_commit(lambda: week_recount(*args))


def after_commit(job: Callable[[], None]) -> None:
    transaction.on_commit(job, robust=True)


def week_recount(user_id: int, kind: str, week: date) -> None:
    """Store one (player, exercise, week) summary recounted from the committed attempt rows. On
    PostgreSQL a per-player advisory lock orders concurrent recounts, so the last to write read
    after the others committed (an older snapshot never overwrites a newer count)."""
    ops = connection.ops
    sql = _REFRESH.format(
        week_table=AttemptWeek._meta.db_table, attempt_table=MODELS[kind]._meta.db_table
    )
    params = [
        user_id,
        kind,
        ops.adapt_datefield_value(week),
        user_id,
        ops.adapt_datetimefield_value(_midnight(week)),
        ops.adapt_datetimefield_value(_midnight(week + timedelta(days=7))),
    ]
    if connection.vendor == "postgresql":
        # One round trip: two statements in one query string run as one transaction (Django's
        # psycopg cursors bind client-side, which allows it), and the recount's snapshot is
        # taken after the lock is granted. A BEGIN, a lock, the recount and a COMMIT were four.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT pg_advisory_xact_lock(%s, %s); {sql}", [LOCK_CLASS, user_id, *params]
            )
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def recount(user_ids: Iterable[int] | None = None) -> dict[Key, dict[str, Any]]:
    """Every (user, exercise, week) summary recounted from the attempt rows, by the ORM."""
    out: dict[Key, dict[str, Any]] = {}
    for kind, model in MODELS.items():
        rows = model.objects.order_by()
        if user_ids is not None:
            rows = rows.filter(user_id__in=list(user_ids))
        rows = (
            rows.annotate(monday=TruncWeek("submitted_at"))
            .values("user_id", "monday")
            .annotate(
                attempts=Count("pk"),
                scored=Count("score"),
                first_scored=Count("score", filter=FIRST_READING),
                first_score_sum=Coalesce(
                    Sum("score", filter=FIRST_READING), Value(0.0), output_field=FloatField()
                ),
                timed=Count("time_taken_s"),
                time_sum=Coalesce(Sum("time_taken_s"), Value(0.0), output_field=FloatField()),
                last_at=Max("submitted_at"),
            )
        )
        for row in rows:
            monday = timezone.localtime(row.pop("monday")).date()
            out[(row.pop("user_id"), kind, monday)] = row
    return out


def stored(user_ids: Iterable[int] | None = None) -> dict[Key, dict[str, Any]]:
    rows = AttemptWeek.objects.filter(attempts__gt=0)
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    fields = (*COUNTS, *SUMS, "last_at")
    return {
        (r["user_id"], r["exercise"], r["week"]): {f: r[f] for f in fields}
        for r in rows.values("user_id", "exercise", "week", *fields)
    }


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # Sums of floats may add in another order: equal to 1e-9.
    return all(a[f] == b[f] for f in (*COUNTS, "last_at")) and all(
        math.isclose(a[f], b[f], rel_tol=1e-9, abs_tol=1e-9) for f in SUMS
    )


@dataclass
class Reconciliation:
    checked: int = 0
    missing: list[Key] = field(default_factory=list)  # recounted, not stored
    extra: list[Key] = field(default_factory=list)  # stored, not recounted
    different: list[Key] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)


def reconcile(*, fix: bool = False, user_ids: Iterable[int] | None = None) -> Reconciliation:
    """Compare the stored summaries with a recount; with ``fix``, store the recount instead."""
    ids = None if user_ids is None else list(user_ids)
    with transaction.atomic():
        expected, have = recount(ids), stored(ids)
        report = Reconciliation(checked=len(expected))
        report.missing = sorted(k for k in expected if k not in have)
        report.extra = sorted(k for k in have if k not in expected)
        report.different = sorted(
            k for k in expected if k in have and not _same(expected[k], have[k])
        )
        if fix and not report.ok:
            rows = AttemptWeek.objects.all()
            (rows if ids is None else rows.filter(user_id__in=ids)).delete()
            AttemptWeek.objects.bulk_create(
                AttemptWeek(user_id=u, exercise=kind, week=week, **values)
                for (u, kind, week), values in expected.items()
            )
    return report
