from __future__ import annotations

from apps.exercises.levels import XP_PER_LEVEL, level_for, level_rules


def test_level_wording_and_boundaries() -> None:
    assert str(level_for(0)) == f"Level 1 · 0 of {XP_PER_LEVEL} XP to level 2"
    assert str(level_for(XP_PER_LEVEL + 73)) == f"Level 2 · 73 of {XP_PER_LEVEL} XP to level 3"
    assert level_for(XP_PER_LEVEL - 1).number == 1
    assert level_for(XP_PER_LEVEL).number == 2 and level_for(XP_PER_LEVEL).xp_into == 0
    assert level_for(-5).number == 1  # never below level 1


def test_the_rule_in_words_comes_from_the_constant() -> None:
    assert str(XP_PER_LEVEL) in level_rules()[0]
