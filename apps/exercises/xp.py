"""XP rules, all of them: the ledger stores what these functions return and nothing else decides
XP. The resident's profile page lists them (``xp_rules``), from these constants."""

from __future__ import annotations

from .hint_text import HINTS_PER_CASE

# Harder cases are worth more.
DIFFICULTY_WEIGHT: dict[int, float] = {1: 1.0, 2: 1.5, 3: 2.0}
# A first reading (before the answer was ever shown): a little for answering, the rest for accuracy.
ANSWER_XP = 5
ACCURACY_XP = 45
# An attempt after the case's answer was shown (a replay, in either exercise): a flat amount, and
# only until the player's replay XP of the day reaches the cap.
REPLAY_XP = 5
REPLAY_XP_DAILY_CAP = 25
# Each hint taken on a case (``hints``) costs this much of that attempt's XP, never below 0.
HINT_XP = 10


def hint_xp_cost(hints_used: int) -> int:
    """The XP that ``hints_used`` hints take off an attempt (before the floor at 0)."""
    return HINT_XP * max(0, hints_used)


def xp_for(
    *,
    score: float,
    blank: bool,
    post_reveal: bool,
    difficulty: int | None,
    replay_xp_today: int,
    hints_used: int = 0,
) -> int:
    """XP for one scored attempt.

    - a blank answer (no box, no tick, no words) earns nothing; ticking "normal" on a normal case
      is an answer, not a blank;
    - after the reveal: ``REPLAY_XP`` while today's replay XP is under ``REPLAY_XP_DAILY_CAP``;
    - otherwise ``(ANSWER_XP + ACCURACY_XP * score) * difficulty weight``;
    - minus ``HINT_XP`` per hint taken before the submit, never below 0.
    """
    if blank:
        return 0
    if post_reveal:
        earned = max(0, min(REPLAY_XP, REPLAY_XP_DAILY_CAP - replay_xp_today))
    else:
        weight = DIFFICULTY_WEIGHT.get(difficulty or 1, 1.0)
        accuracy = max(0.0, min(1.0, score))
        earned = round(weight * (ANSWER_XP + ACCURACY_XP * accuracy))
    return max(0, earned - hint_xp_cost(hints_used))


def xp_rules() -> list[str]:
    """The rules in words, for the profile page (generated from the constants above)."""
    weights = ", ".join(
        f"{name} ×{DIFFICULTY_WEIGHT[level]:g}"
        for level, name in ((1, "easy"), (2, "medium"), (3, "hard"))
    )
    return [
        f"A first reading of a case earns {ANSWER_XP} XP plus up to {ACCURACY_XP} XP for "
        f"accuracy (the score times {ACCURACY_XP}), weighted by difficulty: {weights}.",
        "A blank answer (no box, no tick, no words) earns nothing. Ticking “No finding” on a "
        "normal case is an answer and earns full XP.",
        f"Once a case's answer was shown to you, in Localize or in Report, another attempt at it "
        f"earns {REPLAY_XP} XP, and only until your replay XP reaches {REPLAY_XP_DAILY_CAP} a day; "
        "it never counts towards accuracy.",
        "In a guided set the worked example shows you the answer before you mark the case, so a "
        "guided answer is an attempt after the answer was shown: replay XP, no accuracy credit. "
        "Active and rapid-fire sets earn XP as above.",
        f"In an active or rapid-fire practice set you may ask for a hint on a case (where to "
        f"look, never what is there), one at a time, up to {HINTS_PER_CASE} per case. Each hint "
        f"costs {HINT_XP} XP of that case's XP, which never goes below 0. Hints are not offered "
        "in a guided set (the worked example shows the answer), in an assessment, or once the "
        "case's answer was shown to you.",
        "In an assessment, scores and XP are held until you have answered every case in every "
        "exercise, or until your educator closes the assessment.",
    ]
