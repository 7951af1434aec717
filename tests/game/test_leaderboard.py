"""Leaderboard privacy: opt-outs never appear, pseudonyms reveal nothing, neighbours only, and
educators see names for their own cohort only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.cohorts.services import cohort_join_by_code
from apps.game.leaderboard import NEIGHBOURS, board_near_me, game_profile_get, leaderboard_opt_set
from apps.progress.services import score_event_record

from .conftest import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def players(make_user: Any, cohort: Any, resident: Any, both: Any) -> list[Any]:
    """Eight residents of the cohort besides ``resident``, with 10, 20, ... 80 XP this week;
    the resident has 45. All opted in except ``quiet`` (the one with 80 XP)."""
    users = []
    for n in range(1, 9):
        user = make_user(f"player{n}", display_name=f"Player Number{n}")
        cohort_join_by_code(user=user, code=cohort.join_code)
        score_event_record(
            user=user,
            kind="localize",
            case=both.case,
            attempt_ref=f"p:{n}",
            score=1.0,
            xp=10 * n,
            post_reveal=False,
        )
        leaderboard_opt_set(user=user, opt_in=n != 8)
        users.append(user)
    score_event_record(
        user=resident,
        kind="localize",
        case=both.case,
        attempt_ref="me",
        score=1.0,
        xp=45,
        post_reveal=False,
    )
    return users


def test_a_resident_sees_only_neighbours_by_pseudonym(client_for, resident, cohort, players):
    client = client_for(resident)
    assert "Player" not in client.get(reverse("game:leaderboard")).content.decode()  # not in yet
    client.post(reverse("game:leaderboard_opt"), {"opt_in": "1"})
    rows = board_near_me(user=resident, cohort=cohort)
    assert len(rows) == 2 * NEIGHBOURS + 1
    me = next(row for row in rows if row.me)
    assert me.week_xp == 45 and me.rank == 4  # 70, 60, 50 above; player8 (80) is not on it
    assert [row.week_xp for row in rows] == [60, 50, 45, 40, 30]
    body = client.get(reverse("game:leaderboard")).content.decode()
    for user in players:
        assert user.username not in body and "Number" not in body
    quiet = game_profile_get(user=players[-1]).pseudonym
    assert quiet not in body


def test_opting_out_removes_the_resident_from_every_board(client_for, resident, cohort, players):
    leaderboard_opt_set(user=resident, opt_in=True)
    leaderboard_opt_set(user=players[4], opt_in=False)  # 50 XP, just above the resident
    rows = board_near_me(user=resident, cohort=cohort)
    assert 50 not in [row.week_xp for row in rows]
    client_for(resident).post(reverse("game:leaderboard_opt"), {"opt_in": "0"})
    assert board_near_me(user=resident, cohort=cohort) == []
    assert all(row.user_id != resident.pk for row in board_near_me(user=players[3], cohort=cohort))


def test_pseudonyms_reveal_nothing_of_the_account(resident, players):
    for user in [resident, *players]:
        pseudonym = game_profile_get(user=user).pseudonym.lower()
        assert user.username not in pseudonym and str(user.pk) != pseudonym.split()[-1]
        assert "number" not in pseudonym and "player" not in pseudonym


def test_educators_see_names_for_their_own_cohort_only(
    client_for, educator, other_educator, cohort, players
):
    url = reverse("game:cohort_leaderboard", args=[cohort.pk])
    body = client_for(educator).get(url).content.decode()
    assert "Player Number7" in body and "Player Number1" in body
    assert "Player Number8" not in body  # did not opt in
    assert client_for(other_educator).get(url).status_code == 404
