"""A cohort's pooled per-finding counts and FROC ratings, counted by PostgreSQL from the stored
results: the findings page then reads a few dozen numbers, not thousands of JSON documents.

The same rules as ``outcomes.finding_stats`` and ``froc.reading_of`` (which stay the reference, and
serve other databases); ``tests/analytics/test_pooled.py`` checks that both agree. Where a result
rates one region twice, the last hit's confidence counts, as in ``reading_of``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models.fields.json import KeyTransform

from apps.localization.models import LocalizationAttempt
from apps.progress.selectors import FIRST_READING

from .froc import UNRATED, FrocSummary, Ratings, froc_summary, summary_of
from .outcomes import FALSE_POSITIVE, HIT, MISS, FindingStats, finding_stats, sort_findings
from .period import ALL_TIME, Period

RESULT_PARTS = ("hits", "misses", "false_positives", "regions")


def scored_parts(attempts: Any) -> Any:
    """The parts of stored Localize results that outcomes and FROC read (not the selected list,
    the mislabelled marks or the reference), as dicts: the rest never leaves the database."""
    return attempts.values(**{part: KeyTransform(part, "result") for part in RESULT_PARTS})


Pooled = tuple[list[FindingStats], int, FrocSummary]


def localize_pooled(
    user_ids: list[int],
    *,
    period: Period = ALL_TIME,
    window: int | None = None,
    case_set_ids: Sequence[int | None] = (None,),
) -> list[Pooled]:
    """For each set asked (None: any set), per-finding stats, images and the pooled FROC of these
    users' first readings (the latest ``window`` of them, in the period): counted by PostgreSQL,
    one query per set, or by the reference rules in Python on another database (the embedded
    SQLite of make demo)."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # The planner's guesses for JSON functions are large: JIT compiling costs more than
            # the query (100 ms of 450 measured), so it is off for these.
            cursor.execute("SET LOCAL jit = off")
            return [
                pooled_localize(cursor, user_ids, period, window, set_id) for set_id in case_set_ids
            ]
    out = []
    for set_id in case_set_ids:
        attempts = LocalizationAttempt.objects.filter(
            FIRST_READING, period.q(), user_id__in=user_ids
        )
        if set_id is not None:
            attempts = attempts.filter(case_set_id=set_id)
        results = list(scored_parts(attempts.order_by("-submitted_at"))[:window])
        findings, images = finding_stats(results)
        out.append((findings, images, froc_summary(results)))
    return out


# {where}: the attempts' conditions; %(users)s, %(window)s and the period's bounds are parameters.
_SQL = """
WITH latest AS MATERIALIZED (
    -- Chosen from the covering (user, submitted_at) index: sorting narrow rows, not results.
    SELECT a.id FROM localization_localizationattempt a
    WHERE a.user_id = ANY(%(users)s) AND NOT a.post_reveal {where}
    ORDER BY a.submitted_at DESC LIMIT %(window)s
), r AS MATERIALIZED (
    SELECT a.result FROM localization_localizationattempt a JOIN latest USING (id)
), x AS MATERIALIZED (
    SELECT row_number() OVER () AS id,
        CASE WHEN jsonb_typeof(r.result -> 'hits') = 'array'
            THEN r.result -> 'hits' ELSE '[]'::jsonb END AS hits,
        CASE WHEN jsonb_typeof(r.result -> 'misses') = 'array'
            THEN r.result -> 'misses' ELSE '[]'::jsonb END AS misses,
        CASE WHEN jsonb_typeof(r.result -> 'false_positives') = 'array'
            THEN r.result -> 'false_positives' ELSE '[]'::jsonb END AS fps,
        CASE WHEN jsonb_typeof(r.result -> 'regions') = 'array'
            THEN r.result -> 'regions' ELSE '[]'::jsonb END AS regions
    FROM r
), items AS MATERIALIZED (
    SELECT x.id, k.outcome, e.item, e.n,
        e.item ->> 'kind' = 'draw' AS drawn,
        CASE WHEN jsonb_typeof(e.item -> 'confidence') = 'number'
            THEN (e.item ->> 'confidence')::float8 END AS rating
    FROM x
    CROSS JOIN LATERAL (VALUES (%(hit)s, x.hits), (%(miss)s, x.misses), (%(fp)s, x.fps))
        AS k(outcome, arr)
    CROSS JOIN LATERAL jsonb_array_elements(k.arr) WITH ORDINALITY AS e(item, n)
), flags AS (
    SELECT i.id,
        bool_or(i.outcome <> %(miss)s AND i.drawn AND i.rating IS NULL) AS unrated,
        max(i.rating) FILTER (WHERE i.outcome = %(fp)s AND i.drawn) AS highest
    FROM items i GROUP BY i.id
), readings AS MATERIALIZED (
    SELECT x.id, x.regions, jsonb_array_length(x.regions) = 0 AS normal,
        coalesce(f.unrated, false) AS unrated, f.highest
    FROM x LEFT JOIN flags f ON f.id = x.id
), rated_hits AS (
    SELECT DISTINCT ON (i.id, (i.item ->> 'region')::int)
        i.id, (i.item ->> 'region')::int AS region, i.rating
    FROM items i WHERE i.outcome = %(hit)s AND i.drawn
    ORDER BY i.id, (i.item ->> 'region')::int, i.n DESC
), lesions AS (
    SELECT h.rating
    FROM readings g CROSS JOIN LATERAL jsonb_array_elements(g.regions) AS reg
    LEFT JOIN rated_hits h ON h.id = g.id AND h.region = (reg ->> 'region')::int
    WHERE NOT g.unrated
)
SELECT 'label', coalesce(item ->> 'label', ''), outcome, NULL::float8, count(*)
    FROM items GROUP BY 2, 3
UNION ALL SELECT 'images', NULL, NULL, NULL, count(*) FROM x
UNION ALL SELECT 'unrated', NULL, NULL, NULL, count(*) FROM readings WHERE unrated
UNION ALL SELECT 'lesion', NULL, NULL, rating, count(*) FROM lesions GROUP BY 4
UNION ALL SELECT 'noise', NULL, NULL, i.rating, count(*) FROM items i
    JOIN readings g ON g.id = i.id AND NOT g.unrated
    WHERE i.outcome = %(fp)s AND i.drawn GROUP BY 4
UNION ALL SELECT 'highest', NULL, normal::text, highest, count(*) FROM readings
    WHERE NOT unrated GROUP BY 3, 4
"""


def pooled_localize(
    cursor: Any, user_ids: list[int], period: Period, window: int | None, case_set_id: int | None
) -> Pooled:
    """``localize_pooled`` in PostgreSQL: one query (a window of None is no limit)."""
    where, params = "", {"users": user_ids, "window": window, "hit": HIT, "miss": MISS}
    if case_set_id is not None:
        where += " AND a.case_set_id = %(case_set)s"
        params["case_set"] = case_set_id
    params["fp"] = FALSE_POSITIVE
    if period.start is not None:
        where += " AND a.submitted_at >= %(start)s"
        params["start"] = period.start
    if period.end is not None:
        where += " AND a.submitted_at < %(end)s"
        params["end"] = period.end
    cursor.execute(_SQL.format(where=where), params)
    return _assemble(cursor.fetchall())


def _assemble(rows: list[tuple[Any, ...]]) -> Pooled:
    by_label: dict[str, FindingStats] = {}
    totals: Counter[str] = Counter()
    ratings = Ratings(Counter(), Counter(), Counter(), Counter())
    for what, label, outcome, rating, count in rows:
        value = UNRATED if rating is None else float(rating)
        if what == "label":
            stats = by_label.setdefault(label, FindingStats(label))
            field = {HIT: "hits", MISS: "misses", FALSE_POSITIVE: "false_positives"}[outcome]
            setattr(stats, field, getattr(stats, field) + count)
        elif what == "lesion":
            ratings.lesions[value] += count
        elif what == "noise":
            ratings.noise[value] += count
        elif what == "highest":
            ratings.highest[value] += count
            if outcome == "true":
                ratings.normal_highest[value] += count
        else:
            totals[what] += count
    images = totals["images"]
    rated = images - totals["unrated"]
    for stats in by_label.values():
        stats.images = images
    froc = summary_of(ratings, images=rated, unrated=totals["unrated"])
    return sort_findings(by_label.values()), images, froc
