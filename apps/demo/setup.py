"""The demo world: three accounts, a cohort, and the NIH ChestX-ray14 demo case set assigned to it.

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
DEMO_IOU = 0.3


@dataclass
class DemoResult:
    accounts: list[tuple[str, str, str, bool]] = field(default_factory=list)  # user, role, pw, new
    summary: ImportSummary | None = None
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


def demo_setup(*, progress: Callable[[int, int, str], None] | None = None) -> DemoResult:
    started = time.monotonic()
    result = DemoResult()
    users: dict[str, User] = {}
    for username, role, password in DEMO_ACCOUNTS:
        user, created = _account(username, role, password)
        users[username] = user
        result.accounts.append((username, role, password, created))
    cohort = _cohort(users["educator"], users["resident"])
    result.summary = import_path(
        "nih",
        Path(settings.BASE_DIR) / DEMO_DATA,
        owner=users["educator"],
        case_set_name=DEMO_SET,
        publish=True,
        progress=progress,
    )
    case_set = users["educator"].case_sets.get(name=DEMO_SET)
    fields: dict[str, Any] = {}
    if case_set.mode != CaseSetMode.PRACTICE:
        fields["mode"] = CaseSetMode.PRACTICE
    if case_set.iou_threshold != DEMO_IOU:
        fields["iou_threshold"] = DEMO_IOU
    if not case_set.description:
        fields["description"] = (
            "44 chest radiographs from NIH ChestX-ray14 (40 with radiologist boxes, 4 normal). "
            "Reference reports are derived from the NIH labels and boxes, not written by a radiologist."
        )
    if fields:
        case_set_update(actor=users["educator"], case_set=case_set, **fields)
    case_set_assign(actor=users["educator"], case_set=case_set, cohort=cohort)
    result.seconds = time.monotonic() - started
    return result
