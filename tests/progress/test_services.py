from __future__ import annotations

from typing import Any

import pytest

from apps.progress.models import ScoreEvent
from apps.progress.selectors import player_stats, replay_xp_today
from apps.progress.services import score_event_record


@pytest.mark.django_db
def test_recording_is_idempotent_and_replays_never_count_for_accuracy(
    resident: Any, educator: Any
) -> None:
    from apps.cases.models import Case

    case = Case.objects.create(title="c", owner=educator)
    other = Case.objects.create(title="d", owner=educator)
    record = {"user": resident, "kind": "localize", "case": case}
    score_event_record(**record, attempt_ref="a:1", score=1.0, xp=50, post_reveal=False)
    # A redelivery of the same attempt changes nothing, whatever it carries.
    score_event_record(**record, attempt_ref="a:1", score=0.0, xp=0, post_reveal=False)
    score_event_record(**record, attempt_ref="a:2", score=0.0, xp=5, post_reveal=True)
    score_event_record(
        user=resident, kind="report", case=other, attempt_ref="r:1", score=0.5, xp=27,
        post_reveal=False,
    )  # fmt: skip
    assert ScoreEvent.objects.get(attempt_ref="a:1").xp == 50
    stats = player_stats(user=resident)
    assert stats.xp == 82
    assert stats.attempts == 3 and stats.cases == 2  # attempts vs distinct cases
    assert stats.localize_accuracy == 1.0  # the replay's 0 does not count
    assert stats.report_accuracy == 0.5
    assert stats.streak_days == 1
    assert replay_xp_today(user=resident) == 5
