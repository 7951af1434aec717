"""Case library reads. Exercise apps call the player selectors and, only after a submission,
``case_answers`` / ``reference_for_scoring``; the authoring pages call the library selectors."""

from apps.cases.selectors.answers import (
    AnswerFinding,
    AnswerReport,
    CaseAnswers,
    case_answers,
    case_in_set_for_submit,
    reference_for_scoring,
)
from apps.cases.selectors.library import (
    case_for_manager,
    case_image_for_manager,
    case_set_for_manager,
    case_sets_managed_by,
    cases_for_library,
    cases_managed_by,
    cohorts_assignable_by,
)
from apps.cases.selectors.play import (
    case_for_player,
    case_in_set_for_player,
    case_set_cases,
    case_set_for_player,
    case_sets_playable_by,
    case_view_ids,
    image_for_viewer,
    localize_truth,
)
from apps.cases.selectors.vocabulary import case_set_presence_labels

__all__ = [
    "AnswerFinding",
    "AnswerReport",
    "CaseAnswers",
    "case_answers",
    "case_for_manager",
    "case_for_player",
    "case_image_for_manager",
    "case_in_set_for_player",
    "case_in_set_for_submit",
    "case_set_cases",
    "case_set_for_manager",
    "case_set_for_player",
    "case_set_presence_labels",
    "case_sets_managed_by",
    "case_sets_playable_by",
    "case_view_ids",
    "cases_for_library",
    "cases_managed_by",
    "cohorts_assignable_by",
    "image_for_viewer",
    "localize_truth",
    "reference_for_scoring",
]
