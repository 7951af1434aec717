"""The weekly summaries the dashboard reads: kept by the lifecycle's ``attempt_recorded`` hook on
submit, score and re-score, equal to a recount of the attempts (RELIABILITY R16), and the
reconciliation finds and fixes a summary that drifted."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from apps.analytics.dashboard import EXERCISES, _summaries, summaries
from apps.analytics.models import AttemptWeek
from apps.analytics.period import ALL_TIME
from apps.analytics.summary import (
    LOCK_CLASS,
    reconcile,
    recount,
    stored,
    week_of,
    week_recount,
)
from tests.analytics.conftest import Played, localize, report
from tests.localization.conftest import NODULE_BOX, truth

pytestmark = pytest.mark.django_db


def _agree() -> bool:
    """Stored and recounted summaries: the same weeks, the same figures (float sums to 1e-9)."""
    have, expected = stored(), recount()
    assert set(have) == set(expected)
    for key, values in expected.items():
        assert have[key].pop("last_at") == values.pop("last_at"), key
        assert have[key] == pytest.approx(values), key
    return True


def test_incremental_equals_recounted_through_the_lifecycle(
    played: Played, resident: Any, make_user: Any
) -> None:
    # played: three Localize submits (one an assessment) and a Report submitted, then scored.
    assert _agree() and reconcile().ok
    week = week_of(played.chest.submitted_at)
    row = AttemptWeek.objects.get(user=resident, exercise="localize", week=week)
    assert (row.attempts, row.scored, row.first_scored) == (3, 3, 3)
    assert row.first_score_sum == pytest.approx(
        played.chest.score + played.normal.score + played.exam.score
    )
    scored = AttemptWeek.objects.get(user=resident, exercise="report", week=week)
    assert (scored.attempts, scored.scored) == (1, 1)  # the score arrived after the submit
    # A replay after the reveal: an attempt, not a first reading.
    localize(resident, played.case, played.practice, [{"label": "Nodule", "box": NODULE_BOX}])
    report(resident, played.report_case, played.practice)
    row.refresh_from_db()
    assert (row.attempts, row.first_scored) == (4, 3)
    assert reconcile().ok


def test_a_rescore_keeps_them_equal(played: Played, resident: Any) -> None:
    from apps.cases.services.findings import case_truth_replace
    from apps.localization.rescore import localization_attempt_rescore

    before = AttemptWeek.objects.get(user=resident, exercise="localize").first_score_sum
    case_truth_replace(case=played.case, findings=[truth("Nodule", [NODULE_BOX])], is_normal=False)
    assert localization_attempt_rescore(attempt=played.chest, case=played.case)
    after = AttemptWeek.objects.get(user=resident, exercise="localize").first_score_sum
    assert after != pytest.approx(before)
    assert reconcile().ok


def test_reconcile_finds_drift_and_fixes_it(played: Played, resident: Any) -> None:
    from apps.localization.models import LocalizationAttempt

    # Changed behind the hook's back (a bulk update): the summaries no longer agree.
    LocalizationAttempt.objects.filter(pk=played.chest.pk).update(score=0.0)
    LocalizationAttempt.objects.filter(pk=played.normal.pk).update(
        submitted_at=played.normal.submitted_at - timedelta(days=21)
    )
    AttemptWeek.objects.create(user=resident, exercise="report", week=week_of(played.chest.submitted_at) - timedelta(days=70), attempts=2)  # fmt: skip
    report_ = reconcile()
    assert not report_.ok
    assert len(report_.missing) == 1 and len(report_.extra) == 1 and len(report_.different) == 1
    with pytest.raises(CommandError):
        call_command("analytics_reconcile")
    call_command("analytics_reconcile", "--fix")
    assert reconcile().ok and _agree()


def test_dashboard_figures_from_summaries_equal_those_from_attempts(
    played: Played, resident: Any
) -> None:
    ids = [resident.pk]
    weekly = summaries(ids, ALL_TIME)
    for kind, model in EXERCISES:
        direct = _summaries(model, ids, ALL_TIME)[resident.pk]
        got = weekly[kind][resident.pk]
        assert (got.attempts, got.last) == (direct.attempts, direct.last)
        assert got.accuracy == pytest.approx(direct.accuracy)
        assert got.mean_time_s == pytest.approx(direct.mean_time_s)


def test_cached_findings_follow_every_recorded_attempt(
    client_for: Any, educator: Any, other_educator: Any, cohort: Any, played: Played, resident: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from apps.analytics.cache import fingerprint

    client = client_for(educator)
    url = reverse("analytics:findings", args=[cohort.pk])
    first = client.get(url).content.decode()
    assert '<tr data-finding="Nodule"><td>Nodule</td><td>2</td><td>0</td>' in first
    with CaptureQueriesContext(connection) as cached:
        again = client.get(url).content.decode()
    assert again.split('id="sens-title"')[1] == first.split('id="sens-title"')[1]
    assert not any("localization_localizationattempt" in q["sql"] for q in cached)
    before = fingerprint([resident.pk])
    localize(resident, played.normal_case, played.practice, [])  # a replay: no first reading
    assert fingerprint([resident.pk]) != before
    from apps.cases.services.findings import case_truth_replace
    from apps.localization.rescore import localization_attempt_rescore

    # A re-score that turns the chest's Nodule hit into a false positive (no Nodule in truth).
    before = fingerprint([resident.pk])
    case_truth_replace(case=played.case, findings=[truth("Effusion", [[0.5, 0.5, 0.7, 0.7]])], is_normal=False)  # fmt: skip
    localization_attempt_rescore(attempt=played.chest, case=played.case)
    assert fingerprint([resident.pk]) != before
    text = client.get(url).content.decode()
    assert '<tr data-finding="Nodule"><td>Nodule</td><td>1</td><td>0</td>' in text
    # The cache never widens who sees the page.
    assert client_for(other_educator).get(url).status_code == 404


def test_the_recount_waits_for_the_commit(
    monkeypatch: Any, django_capture_on_commit_callbacks: Any, played: Played, resident: Any
) -> None:
    monkeypatch.undo()  # as deployed: after the change commits
    week = week_of(played.chest.submitted_at)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        localize(resident, played.normal_case, played.practice, [])
    row = AttemptWeek.objects.get(user=resident, exercise="localize", week=week)
    assert row.attempts == 3  # not yet: the submit's transaction holds no summary row
    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.attempts == 4 and reconcile().ok


@pytest.mark.django_db(transaction=True)
def test_a_recount_waits_for_the_lock_and_reads_after_it(
    monkeypatch: Any, played: Played, resident: Any
) -> None:
    """The lock and the recount go to Postgres in one round trip; the recount must still read
    after the lock is granted, or a recount that waited would store an older count."""
    week = week_of(played.chest.submitted_at)
    monkeypatch.setattr("apps.analytics.summary.after_commit", lambda job: None)
    locked, go = threading.Event(), threading.Event()

    def holder() -> None:  # another recount's transaction, with an attempt it will commit
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, resident.pk]
                    )
                localize(resident, played.normal_case, played.practice, [])
                locked.set()
                go.wait(10)
        finally:
            connection.close()

    def recount_now() -> None:
        try:
            week_recount(resident.pk, "localize", week)
        finally:
            connection.close()

    first = threading.Thread(target=holder)
    first.start()
    assert locked.wait(10)
    second = threading.Thread(target=recount_now)
    second.start()
    time.sleep(0.3)
    assert second.is_alive()  # waiting for the lock
    go.set()
    first.join(10)
    second.join(10)
    row = AttemptWeek.objects.get(user=resident, exercise="localize", week=week)
    assert row.attempts == 4 and reconcile().ok  # the attempt committed while it waited
