"""The demo world: three accounts, a cohort, and two case sets assigned to it.

- "IU X-ray (Open-i): radiologists' reports": nine studies with their frontal and lateral views and
  the radiologist's own report, the Report exercise's default set.
- "NIH ChestX-ray14 demo": 44 radiographs with radiologist boxes for Localize; its reference
  reports are derived from the labels (a "label-derived" Report set).

Idempotent: running it again changes nothing that already exists (accounts keep their passwords
unless they were never set), and the import finds its cases by (source, external id).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.models import Role, User
from apps.accounts.services import user_create
from apps.cases.importers import ImportSummary, import_path
from apps.cases.models import CaseSetMode
from apps.cases.services import case_set_assign, case_set_update
from apps.cohorts.models import Cohort, Membership
from apps.cohorts.services import cohort_create, cohort_join_by_code

DEMO_ACCOUNTS = (
    ("admin", Role.ADMIN, "radgame-admin"),
    ("educator", Role.EDUCATOR, "radgame-educator"),
    ("resident", Role.RESIDENT, "radgame-resident"),
)
DEMO_COHORT = "Demo cohort"
DEMO_SET = "NIH ChestX-ray14 demo"
DEMO_DATA = Path("data") / "cxr-demo"
DEMO_DESCRIPTION = (
    "44 chest radiographs from NIH ChestX-ray14 (40 with radiologist boxes, 4 normal). "
    "Reference reports are derived from the NIH labels and boxes, not written by a radiologist."
)
IU_SET = "IU X-ray (Open-i): radiologists' reports"
IU_DATA = Path("data") / "iu-demo"
IU_DESCRIPTION = (
    "Nine studies of the Indiana University Chest X-ray Collection (Open-i), frontal and lateral "
    "views, each with the radiologist's own report. CC BY-NC-ND 4.0: non-commercial use only."
)
DEMO_IOU = 0.3


@dataclass
class DemoResult:
    accounts: list[tuple[str, str, str, bool]] = field(default_factory=list)  # user, role, pw, new
    summaries: dict[str, ImportSummary] = field(default_factory=dict)  # set name -> summary
    seconds: float = 0.0


def _account(username: str, role: str, password: str) -> tuple[User, bool]:
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    return user_create(
        username=username, password=password, role=role, display_name=f"Demo {role}"
    ), True


def _cohort(educator: User, resident: User) -> Cohort:
    with transaction.atomic():
        cohort = Cohort.objects.filter(owner=educator, name=DEMO_COHORT).first()
        if cohort is None:
            cohort = cohort_create(
                actor=educator, name=DEMO_COHORT, description="Created by demo_setup."
            )
        if not Membership.objects.filter(cohort=cohort, user=resident).exists():
            cohort_join_by_code(user=resident, code=cohort.join_code)
    return cohort


def _set_up(educator: User, name: str, description: str, cohort: Cohort) -> None:
    case_set = educator.case_sets.get(name=name)
    fields: dict[str, Any] = {}
    if case_set.mode != CaseSetMode.PRACTICE:
        fields["mode"] = CaseSetMode.PRACTICE
    if case_set.iou_threshold != DEMO_IOU:
        fields["iou_threshold"] = DEMO_IOU
    if not case_set.description:
        fields["description"] = description
    if fields:
        case_set_update(actor=educator, case_set=case_set, **fields)
    case_set_assign(actor=educator, case_set=case_set, cohort=cohort)


def demo_setup(*, progress: Callable[[int, int, str], None] | None = None) -> DemoResult:
    started = time.monotonic()
    result = DemoResult()
    users: dict[str, User] = {}
    for username, role, password in DEMO_ACCOUNTS:
        user, created = _account(username, role, password)
        users[username] = user
        result.accounts.append((username, role, password, created))
    cohort = _cohort(users["educator"], users["resident"])
    offset = 0

    def step(done: int, total: int, message: str) -> None:
        if progress is not None:
            progress(offset + done, offset + total, message)

    for name, format_name, folder, description in (
        (IU_SET, "reports", IU_DATA, IU_DESCRIPTION),
        (DEMO_SET, "nih", DEMO_DATA, DEMO_DESCRIPTION),
    ):
        result.summaries[name] = import_path(
            format_name,
            Path(settings.BASE_DIR) / folder,
            owner=users["educator"],
            case_set_name=name,
            publish=True,
            progress=step,
        )
        summary = result.summaries[name]
        offset += summary.created + summary.updated + summary.unchanged + len(summary.skipped)
        _set_up(users["educator"], name, description, cohort)
    result.seconds = time.monotonic() - started
    return result
