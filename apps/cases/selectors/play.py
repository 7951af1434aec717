"""What a player (resident, or an educator trying cases) may open: never any ground truth.

Visibility: residents play the sets assigned to a cohort they belong to; educators also play the
sets they own and every shared set; admins play everything. A set counts only once it holds at
least one published case, and only published cases are ever played. Anything else is a 404, so a
probe cannot tell "exists but not yours" from "does not exist".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404

from apps.accounts.permissions import is_player
from apps.cases.models import (
    Assignment,
    Case,
    CaseImage,
    CaseSet,
    CaseSetItem,
    CaseStatus,
    Finding,
)
from apps.cohorts.models import Membership
from apps.core.compiled import compiled_values

from .library import access_role, managed_cases

_IMAGES = Prefetch("images", queryset=CaseImage.objects.order_by("position"))


def localize_truth(prefix: str = "") -> Q:
    """Cases Localize can score: with findings, or marked normal (on Case, or through ``prefix``,
    e.g. "case__"). A report-only study (an IU X-ray case) has neither: its findings are in the
    radiologist's text, so Localize would take it for normal and score an empty read as right."""
    return Q(**{f"{prefix}is_normal": True}) | Q(
        Exists(Finding.objects.filter(case=OuterRef(f"{prefix}pk" if prefix else "pk")))
    )


def _has_published_case(*, localize_only: bool = False, set_ref: str = "pk") -> Exists:
    """A published case (Report); for Localize, a published case with boxes or ticks to find.
    A set whose only Localize cases are normal (the IU set: its abnormal studies are report-only)
    would tell the resident every answer before the first click, so Localize does not offer it.
    ``set_ref``: the outer query's set id ("pk" on CaseSet, "case_set_id" on an Assignment)."""
    items = CaseSetItem.objects.filter(
        case_set=OuterRef(set_ref), case__status=CaseStatus.PUBLISHED
    )
    if localize_only:
        items = items.filter(Exists(Finding.objects.filter(case=OuterRef("case_id"))))
    return Exists(items)


def _may_play(user: Any, prefix: str = "") -> Q | None:
    """The visibility rule on a set, as a filter: on CaseSet itself (``prefix=""``) or on a model
    that points at one (``prefix="case_set__"``); None when the user plays nothing. One rule for
    both, so the submit's one-query check cannot drift from the set list."""
    if not is_player(user):
        return None
    return _visible(access_role(user), user.pk, prefix)


def _visible(role: str, user_id: int, prefix: str) -> Q:
    """``_may_play`` for a player of ``role``, the user given by id only (so a compiled query can
    take it as a parameter)."""
    if role == "admin":
        return Q()
    assigned = Exists(
        Assignment.objects.filter(
            case_set=OuterRef(f"{prefix}pk"),
            cohort__in=Membership.objects.filter(user_id=user_id).values("cohort_id"),
        )
    )
    visible = Q(assigned)
    if role == "educator":
        visible |= Q(**{f"{prefix}owner_id": user_id}) | Q(**{f"{prefix}shared": True})
    return visible


def localize_offers(set_ref: str = "pk") -> Exists:
    """Whether Localize offers the set, as an annotation: on CaseSet (``set_ref="pk"``) or on a
    model that points at one (``set_ref="case_set_id"``). The rule of
    ``case_sets_playable_by(localize_only=True)``, for a caller that already has the set's row."""
    return _has_published_case(localize_only=True, set_ref=set_ref)


def case_sets_playable_by(*, user: Any, localize_only: bool = False) -> QuerySet[CaseSet]:
    """Sets the user may play; ``localize_only``: those with an abnormal case Localize can score."""
    queryset = CaseSet.objects.filter(
        _has_published_case(localize_only=localize_only)
    ).select_related("owner")
    visible = _may_play(user)
    return queryset.none() if visible is None else queryset.filter(visible)


def case_set_for_player(*, user: Any, case_set_id: int) -> CaseSet:
    case_set = case_sets_playable_by(user=user).filter(pk=case_set_id).first()
    if case_set is None:
        raise Http404("No such case set")
    return case_set


def case_set_cases(*, case_set: CaseSet, localize_only: bool = False) -> list[Case]:
    """Published cases in the set's order, images prefetched (no findings, no report);
    ``localize_only``: only those Localize can score."""
    items = CaseSetItem.objects.filter(case_set=case_set, case__status=CaseStatus.PUBLISHED)
    if localize_only:
        items = items.filter(localize_truth("case__"))
    items = (
        items.select_related("case")
        .prefetch_related(Prefetch("case__images", queryset=CaseImage.objects.order_by("position")))
        .order_by("position")
    )
    return [item.case for item in items]


def case_for_player(*, user: Any, case_id: int, case_set_id: int | None = None) -> Case:
    """A published case in a set the user may play (the given set, if any); 404 otherwise.

    Only images are prefetched: the findings and the report are answers, and loading them here
    would make it one template typo away from a leak.
    """
    sets = case_sets_playable_by(user=user)
    if case_set_id is not None:
        sets = sets.filter(pk=case_set_id)
    case = (
        Case.objects.filter(
            pk=case_id,
            status=CaseStatus.PUBLISHED,
            set_items__case_set__in=sets.values("pk"),
        )
        .prefetch_related(_IMAGES)
        .first()
    )
    if case is None:
        raise Http404("No such case")
    return case


def case_in_set_for_player(
    *, user: Any, case_set_id: int, case_id: int, with_images: bool = True
) -> tuple[CaseSet, Case]:
    """The set and a published case in it that Localize can score, when the user may play that
    set; 404 otherwise.

    One query (the set item joined to both, the visibility rule and the truth check as
    subqueries), for the Localize submit's hot path, plus the images unless ``with_images=False``;
    then the case carries only its first image's display file name, ``first_display_name`` (what
    an explanation job names), and its id, ``first_view_id`` (where a box without a view lies),
    from subqueries of the same statement. Never any answers.
    """
    row = case_in_set_row(
        user=user,
        case_set_id=case_set_id,
        case_id=case_id,
        key=("case_in_set_for_player", with_images),
        items=lambda role, user_id, case_set_id, case_id: case_in_set_items(
            role, user_id, case_set_id, case_id, with_images=with_images
        ),
    )
    return case_in_set_objects(row, with_images=with_images)


def case_in_set_row(
    *, user: Any, case_set_id: int, case_id: int, key: Any, items: Any
) -> dict[str, Any]:
    """The row of ``items(role, user_id, case_set_id, case_id)`` (``case_in_set_items``'s queryset,
    perhaps with more columns), compiled once per process under ``key``; 404 without one."""
    if not is_player(user):
        raise Http404("No such case")
    role = access_role(user)
    rows = compiled_values(
        (*key, role),
        lambda user_id, case_set_id, case_id: items(role, user_id, case_set_id, case_id),
        {"user_id": user.pk, "case_set_id": case_set_id, "case_id": case_id},
    )
    if not rows:
        raise Http404("No such case")
    return rows[0]


def case_in_set_objects(row: dict[str, Any], *, with_images: bool) -> tuple[CaseSet, Case]:
    """The set and case of a ``case_in_set_row`` row."""
    case = Case.from_db("default", _CASE_FIELDS, [row[f"case__{f}"] for f in _CASE_FIELDS])
    case_set = CaseSet.from_db("default", _SET_FIELDS, [row[f"case_set__{f}"] for f in _SET_FIELDS])
    if with_images:
        prefetch_related_objects([case], _IMAGES)
    else:
        case.first_display_name = row["first_display"] or ""
        case.first_view_id = row["first_view"]
    return case_set, case


_CASE_FIELDS = [f.attname for f in Case._meta.concrete_fields]
_SET_FIELDS = [f.attname for f in CaseSet._meta.concrete_fields]


def case_in_set_items(
    role: str,
    user_id: int,
    case_set_id: int,
    case_id: int,
    *,
    with_images: bool,
    annotations: dict[str, Any] | None = None,
) -> QuerySet[CaseSetItem]:
    """The set item's case and set columns (and the first image's, ``with_images=False``, and
    any ``annotations``) when a player of ``role`` may play the case in the set: the rule
    ``case_in_set_for_player`` runs from SQL compiled once per process."""
    items = CaseSetItem.objects.filter(
        _visible(role, user_id, "case_set__"),
        case_set_id=case_set_id,
        case_id=case_id,
        # A published case in the set also makes the set playable (case_sets_playable_by).
        case__status=CaseStatus.PUBLISHED,
    ).filter(localize_truth("case__"))
    columns = [f"case__{f}" for f in _CASE_FIELDS] + [f"case_set__{f}" for f in _SET_FIELDS]
    if not with_images:
        first = CaseImage.objects.filter(case=OuterRef("case_id")).order_by("position", "pk")
        items = items.annotate(
            first_display=Subquery(first.values("display")[:1]),
            first_view=Subquery(first.values("pk")[:1]),
        )
        columns += ["first_display", "first_view"]
    if annotations:
        items = items.annotate(**annotations)
        columns += list(annotations)
    return items.order_by("pk").values(*columns)[:1]


def image_for_viewer(*, user: Any, image_id: int) -> CaseImage:
    """An image of a case the user manages (``cases_managed_by``), or of a published case in a set
    the user may play; 404 otherwise.

    One query, its SQL compiled once per process and role (the image GET's hot path: a cohort
    loads dozens a minute). The image carries its own columns only (the stored file names the
    view serves); its case is not loaded."""
    if not is_player(user):
        raise Http404("No such image")
    role = access_role(user)
    rows = compiled_values(
        ("image_for_viewer", role),
        lambda user_id, image_id: image_for_viewer_rows(role, user_id, image_id),
        {"user_id": user.pk, "image_id": image_id},
    )
    if not rows:
        raise Http404("No such image")
    return CaseImage.from_db("default", _IMAGE_FIELDS, [rows[0][f] for f in _IMAGE_FIELDS])


_IMAGE_FIELDS = [f.attname for f in CaseImage._meta.concrete_fields]


def image_for_viewer_rows(role: str, user_id: int, image_id: int) -> QuerySet[CaseImage]:
    """The image's columns when a player of ``role`` may view it: ``image_for_viewer``'s rule."""
    in_playable_set = Exists(
        CaseSetItem.objects.filter(_visible(role, user_id, "case_set__"), case=OuterRef("case"))
    )
    # A published case in the set also makes the set playable (case_sets_playable_by).
    may_view = Q(in_playable_set, case__status=CaseStatus.PUBLISHED)
    managed = managed_cases(role, user_id, "case__")
    if managed is not None:
        # An empty Q manages every case (Q() | rule would be just the rule).
        may_view = (managed | may_view) if managed else Q()
    images = CaseImage.objects.filter(may_view, pk=image_id)
    return images.order_by().values(*_IMAGE_FIELDS)[:1]


class CaseViewIds(Sequence[int]):
    """The ids of a case's views in order, asked of the database only when needed: the first
    comes from the images the caller prefetched, or from ``first_view_id`` that the submit's one
    statement annotates, so a submit whose boxes name no view (or the first) asks nothing more."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self._ids: list[int] | None = None

    def _all(self) -> list[int]:
        if self._ids is None:
            cached = getattr(self.case, "_prefetched_objects_cache", {}).get("images")
            if cached is not None:
                self._ids = [image.pk for image in sorted(cached, key=lambda i: i.position)]
            else:
                images = self.case.images.order_by("position", "pk")
                self._ids = list(images.values_list("pk", flat=True))
        return self._ids

    def __getitem__(self, index: Any) -> Any:
        if index == 0 and self._ids is None and hasattr(self.case, "first_view_id"):
            if self.case.first_view_id is None:
                raise IndexError(index)
            return self.case.first_view_id
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


def case_view_ids(*, case: Case) -> CaseViewIds:
    """The ids of the case's views in order (the first is where a mark without a view goes)."""
    return CaseViewIds(case)
