"""demo_setup on a three-image cut of the bundle (the full bundle's import is tested in
tests/cases/test_import_nih.py): accounts, cohort, assigned case set, idempotence, the guard."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.accounts.models import User
from apps.cases import selectors
from apps.cases.models import Case, CaseImage, CaseSet
from apps.demo import setup

pytestmark = pytest.mark.django_db
BUNDLE = Path(settings.BASE_DIR) / "data" / "cxr-demo"
KEEP = ("00016972_019.png", "00010770_000.png", "00000002_000.png")


@pytest.fixture
def small_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cxr-demo"
    (root / "images").mkdir(parents=True)
    for name in KEEP:
        shutil.copy(BUNDLE / "images" / name, root / "images" / name)
    for csv_name in ("Data_Entry_2017.csv", "BBox_List_2017.csv"):
        rows = list(csv.reader((BUNDLE / csv_name).open()))
        with (root / csv_name).open("w", newline="") as handle:
            csv.writer(handle).writerows([rows[0], *(r for r in rows[1:] if r[0] in KEEP)])
    monkeypatch.setattr(setup, "DEMO_DATA", root)
    return root


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_setup", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_refuses_without_debug(settings: Any, small_bundle: Path) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        _run()
    assert not User.objects.exists()


def test_builds_the_demo_world_idempotently(settings: Any, small_bundle: Path) -> None:
    settings.DEBUG = True
    first = _run()
    assert "admin     / radgame-admin" in first and "resident  / radgame-resident" in first
    assert "3 created" in first
    for username, role, password in setup.DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.role == role and user.check_password(password)
    educator, resident = (
        User.objects.get(username="educator"),
        User.objects.get(username="resident"),
    )
    assert f"Case set '{setup.IU_SET}': 9 created" in first
    case_set = CaseSet.objects.get(name=setup.DEMO_SET)
    iu_set = CaseSet.objects.get(name=setup.IU_SET)
    for each in (case_set, iu_set):
        assert (each.owner, each.mode, each.iou_threshold) == (educator, "practice", 0.3)
        assert each.description
    cohort = case_set.assignments.get().cohort
    assert iu_set.assignments.get().cohort == cohort
    assert cohort.owner == educator and cohort.memberships.filter(user=resident).exists()
    assert {s.pk for s in selectors.case_sets_playable_by(user=resident)} == {
        case_set.pk,
        iu_set.pk,
    }
    cases = selectors.case_set_cases(case_set=case_set)
    assert len(cases) == 3 and all(c.is_published for c in cases)
    for case in cases:
        assert "NIH Clinical Center" in case.attribution
        assert case.report.is_derived and "not a radiologist's report" in case.report.source
    iu_cases = selectors.case_set_cases(case_set=iu_set)
    assert len(iu_cases) == 9 and all(c.is_published for c in iu_cases)
    for case in iu_cases:
        assert "Open-i" in case.attribution and case.licence.startswith("CC BY-NC-ND 4.0")
        assert not case.report.is_derived and "radiologist" in case.report.source
    # RELIABILITY S21: both publishers de-identified their images; the demo educator imported them.
    notes = set(
        CaseImage.objects.values_list("phi_checked_by__username", "phi_check_note").distinct()
    )
    assert notes == {
        ("educator", "de-identified by the dataset's publisher: NIH ChestX-ray14"),
        ("educator", "de-identified by the dataset's publisher: IU X-ray"),
    }
    second = _run("--force")
    assert "already existed" in second and "3 unchanged" in second and "9 unchanged" in second
    assert Case.objects.count() == 12 and CaseSet.objects.count() == 2
    assert User.objects.count() == 3
    assert case_set.assignments.count() == 1 and iu_set.assignments.count() == 1
