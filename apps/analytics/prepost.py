"""Pre-test / post-test: link two of a cohort's assessments, and compare each resident's first
readings in the pre set with those in the post set, per exercise, per finding and for the cohort
(mean change with a paired 95% t interval on the per-resident differences)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg
from django.http import Http404

from apps.cases.models import Assignment, CaseSetMode
from apps.cohorts.selectors import cohort_for_manager, cohort_residents
from apps.core.exceptions import ApplicationError
from apps.progress.selectors import FIRST_READING

from .cache import cohort_cached
from .dashboard import EXERCISES
from .models import PrePost
from .pooled import localize_pooled


@dataclass(frozen=True)
class PairedInterval:
    n: int
    mean: float | None
    low: float | None
    high: float | None


def paired_interval(differences: Sequence[float], confidence: float = 0.95) -> PairedInterval:
    """The mean of paired differences and its t interval: mean ± t(1-α/2, n-1) · s / √n.
    One pair has a mean and no interval; none has neither."""
    n = len(differences)
    if n == 0:
        return PairedInterval(0, None, None, None)
    mean = sum(differences) / n
    if n < 2:
        return PairedInterval(n, mean, None, None)
    from scipy.stats import t  # heavy: only when an interval is drawn

    sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    half = float(t.ppf(1 - (1 - confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return PairedInterval(n, mean, mean - half, mean + half)


def assessments_of(cohort: Any) -> list[Any]:
    """The assessments assigned to the cohort: what may be linked."""
    return [
        a.case_set
        for a in Assignment.objects.filter(cohort=cohort, case_set__mode=CaseSetMode.ASSESSMENT)
        .select_related("case_set")
        .order_by("case_set__name")
    ]


def prepost_create(*, actor: Any, cohort_id: int, pre_id: int, post_id: int) -> PrePost:
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    sets = {s.pk: s for s in assessments_of(cohort)}
    if pre_id not in sets or post_id not in sets:
        raise ApplicationError("Pick two assessments assigned to this cohort.", field="pre")
    if pre_id == post_id:
        raise ApplicationError("The pre-test and the post-test must be two sets.", field="post")
    pair, _ = PrePost.objects.get_or_create(
        cohort=cohort, pre=sets[pre_id], post=sets[post_id], defaults={"created_by": actor}
    )
    return pair


def prepost_for_manager(*, actor: Any, cohort_id: int, pair_id: int) -> PrePost:
    """A pair of a cohort the actor runs, with its sets; 404 for anyone else or another cohort's."""
    cohort = cohort_for_manager(actor=actor, cohort_id=cohort_id)
    pair = PrePost.objects.filter(pk=pair_id, cohort=cohort).select_related("pre", "post").first()
    if pair is None:
        raise Http404("No such pre/post pair")
    pair.cohort = cohort
    return pair


def prepost_delete(*, actor: Any, cohort_id: int, pair_id: int) -> PrePost:
    """Unlink a pair (whoever runs the cohort): the two assessments and their attempts stay."""
    pair = prepost_for_manager(actor=actor, cohort_id=cohort_id, pair_id=pair_id)
    PrePost.objects.filter(pk=pair.pk).delete()
    return pair


@dataclass(frozen=True)
class ResidentChange:
    user: Any
    pre: dict[str, float | None]  # by exercise
    post: dict[str, float | None]

    def change(self, kind: str) -> float | None:
        pre, post = self.pre.get(kind), self.post.get(kind)
        return None if pre is None or post is None else post - pre


@dataclass(frozen=True)
class FindingChange:
    label: str
    pre: float | None
    post: float | None

    @property
    def change(self) -> float | None:
        return None if self.pre is None or self.post is None else self.post - self.pre


@dataclass
class PrePostResults:
    pair: PrePost
    residents: list[ResidentChange]
    cohort: dict[str, PairedInterval]  # by exercise
    findings: list[FindingChange]


def prepost_results(*, actor: Any, cohort_id: int, pair_id: int) -> PrePostResults:
    """The comparison for a pair of a cohort the actor runs (404 otherwise); its figures come from
    the cohort's cache while none of its residents' attempts changed."""
    pair = prepost_for_manager(actor=actor, cohort_id=cohort_id, pair_id=pair_id)
    residents = cohort_residents(pair.cohort)
    user_ids = [user.pk for user in residents]
    sets = {"pre": pair.pre_id, "post": pair.post_id}
    means, findings = cohort_cached(
        "prepost", pair.cohort.pk, user_ids, sets, lambda: _figures(user_ids, pair)
    )
    changes = [
        ResidentChange(
            user=user,
            pre={kind: means.get((kind, user.pk, pair.pre_id)) for kind, _ in EXERCISES},
            post={kind: means.get((kind, user.pk, pair.post_id)) for kind, _ in EXERCISES},
        )
        for user in residents
    ]
    intervals = {
        kind: paired_interval([d for c in changes if (d := c.change(kind)) is not None])
        for kind, _ in EXERCISES
    }
    return PrePostResults(pair, changes, intervals, findings)


Means = dict[tuple[str, int, int], float]  # (exercise, user, set): mean first-reading score


def _figures(user_ids: list[int], pair: PrePost) -> tuple[Means, list[FindingChange]]:
    sets = [pair.pre_id, pair.post_id]
    means: Means = {}
    for kind, model in EXERCISES:
        rows = (
            model.objects.filter(FIRST_READING, user_id__in=user_ids, case_set_id__in=sets)
            .values("user_id", "case_set_id")
            .annotate(mean=Avg("score"))
            .order_by()
        )
        for row in rows:
            if row["mean"] is not None:
                means[(kind, row["user_id"], row["case_set_id"])] = row["mean"]
    return means, _finding_changes(user_ids, pair)


def _finding_changes(user_ids: list[int], pair: PrePost) -> list[FindingChange]:
    pre, post = (
        {f.label: f.sensitivity for f in findings}
        for findings, _, _ in localize_pooled(user_ids, case_set_ids=(pair.pre_id, pair.post_id))
    )
    return [FindingChange(label, pre.get(label), post.get(label)) for label in sorted(pre | post)]
