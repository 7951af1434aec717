"""NIH ChestX-ray14: the bundled demo folder (imported once per module, then again to prove
idempotence) and small folders in NIH's exact CSV formats for the error paths."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from apps.cases.importers import ImportFailed, import_path
from apps.cases.importers.derived import DERIVED_SOURCE
from apps.cases.models import Case, CaseImage, CaseSet, FindingBox
from apps.cases.selectors import reference_for_scoring
from ml.boxes import parse_reference
from tests.cases.factories import png_bytes

BUNDLE = Path(settings.BASE_DIR) / "data" / "cxr-demo"


@pytest.fixture(scope="module")
def nih(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """One import of the 44-case bundle, then a second one, shared by the module's tests."""
    from django.utils import timezone

    from apps.accounts.services import user_create
    from apps.inference.models import Job

    media = tmp_path_factory.mktemp("nih-media")
    started = timezone.now()
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        owner = user_create(username="nih-importer", password="x" * 12, role="educator")
        outputs = []
        for _ in range(2):
            out = io.StringIO()
            call_command(
                "import_cases",
                str(BUNDLE),
                "--format",
                "nih",
                "--owner",
                owner.username,
                "--case-set",
                "NIH demo",
                "--publish",
                stdout=out,
                verbosity=0,
            )
            outputs.append(out.getvalue())
        yield {"owner": owner, "outputs": outputs, "media": media}
        # Publishing ran other apps' hooks (explanation jobs): remove what this module committed.
        Job.objects.filter(created_at__gte=started).delete()
        CaseSet.objects.filter(owner=owner).delete()
        Case.objects.filter(owner=owner).delete()
        owner.delete()


@pytest.fixture
def media_root(nih: dict[str, Any]) -> Path:
    # The module's images live in the import's media root; keep it for every test here.
    return nih["media"]


pytestmark = pytest.mark.django_db


def test_bundle_imports_44_cases_once(nih: dict[str, Any]) -> None:
    first, second = nih["outputs"]
    assert first.startswith("created 44, updated 0, unchanged 0, skipped 0")
    assert second.startswith("created 0, updated 0, unchanged 44, skipped 0")
    cases = Case.objects.filter(owner=nih["owner"])
    assert cases.count() == 44
    assert cases.filter(is_normal=True).count() == 4
    assert cases.filter(findings__boxes__isnull=False).distinct().count() == 40
    assert FindingBox.objects.filter(finding__case__owner=nih["owner"]).count() == 52
    assert cases.filter(status="published").count() == 44
    assert CaseSet.objects.get(owner=nih["owner"], name="NIH demo").items.count() == 44


def test_the_import_records_the_publishers_deidentification(nih: dict[str, Any]) -> None:
    # RELIABILITY S21: NIH released the images de-identified; the importing educator is named.
    images = CaseImage.objects.filter(case__owner=nih["owner"])
    assert images.count() == 44
    assert set(images.values_list("phi_checked_by", "phi_check_note")) == {
        (nih["owner"].pk, "de-identified by the dataset's publisher: NIH ChestX-ray14")
    }
    assert not images.filter(phi_checked_at__isnull=True).exists()


def test_boxes_labels_and_facts(nih: dict[str, Any]) -> None:
    case = Case.objects.get(source="NIH ChestX-ray14", external_id="00016972_019.png")
    assert (case.patient_age, case.patient_sex, case.view) == (43, "F", "AP")
    findings = {f.label: f for f in case.findings.all()}
    assert set(findings) == {"Atelectasis", "Effusion", "Infiltration"}
    box = findings["Atelectasis"].boxes.get()
    assert box.x1 == pytest.approx(514.71186440678 / 1024)
    assert box.y2 == pytest.approx((634.883623543432 + 228.88135593220298) / 1024)
    assert not findings["Effusion"].localizable and not findings["Effusion"].boxes.exists()
    infiltrate = FindingBox.objects.filter(
        finding__case__owner=nih["owner"], finding__label="Infiltration"
    )
    assert infiltrate.exists()  # "Infiltrate" in the box list is NIH's Infiltration
    assert "NIH Clinical Center" in case.attribution and "Wang X" in case.attribution
    assert "no restrictions" in case.licence


def test_derived_reports(nih: dict[str, Any]) -> None:
    case = Case.objects.get(external_id="00016972_019.png")
    # Image x from 0.50 to 0.79 is the patient's LEFT on a frontal film.
    assert (
        case.report.findings
        == "Atelectasis in the left lower zone. Pleural effusion. Infiltration."
    )
    assert case.report.is_derived and case.report.source == DERIVED_SOURCE
    normal = Case.objects.get(external_id="00000002_000.png")
    assert normal.is_normal and "lungs are clear" in normal.report.findings
    assert not normal.findings.exists()


def test_every_case_gives_a_valid_scoring_reference(nih: dict[str, Any]) -> None:
    for case in Case.objects.filter(owner=nih["owner"]):
        reference = parse_reference(reference_for_scoring(case, 0.3))
        assert reference.is_normal == case.is_normal


def _nih_folder(root: Path, entries: list[str], boxes: list[str], *, size: int = 100) -> Path:
    (root / "images").mkdir(parents=True)
    for name in ("a.png", "b.png", "c.png"):
        (root / "images" / name).write_bytes(png_bytes(size, size))
    header = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]\n"
    (root / "Data_Entry_2017.csv").write_text(header + "".join(e + "\n" for e in entries))
    # NIH's own box list ends every line with three empty columns.
    (root / "BBox_List_2017.csv").write_text(
        "Image Index,Finding Label,Bbox [x,y,w,h],,,\n" + "".join(b + ",,,\n" for b in boxes)
    )
    return root


def test_small_folder_with_problems(tmp_path: Path, educator: Any) -> None:
    root = _nih_folder(
        tmp_path / "nih",
        [
            "a.png,Nodule|Effusion,0,1,058Y,M,PA,2500,2048,0.14,0.14",
            "b.png,Glorboma,0,2,40,F,PA,2500,2048,0.14,0.14",
            "c.png,Mass,0,3,40,F,PA,2500,2048,0.14,0.14",
            "zzz.png,No Finding,0,4,40,F,PA,2500,2048,0.14,0.14",
        ],
        ["a.png,Nodule,10,20,30,40", "c.png,Mass,80,80,30,30", "q.png,Mass,1,1,2,2"],
    )
    summary = import_path("nih", root, owner=educator)
    assert summary.created == 1
    skipped = {s["external_id"]: s["reason"] for s in summary.skipped}
    assert (
        "Unknown finding label 'Glorboma'" in skipped["b.png"]
        and "Data_Entry_2017.csv:3" in skipped["b.png"]
    )
    assert (
        "outside the 100x100 image" in skipped["c.png"]
        and "BBox_List_2017.csv:3" in skipped["c.png"]
    )
    assert any("1 row(s) name images not in the folder" in p for p in summary.problems)
    assert any("BBox_List_2017.csv:4: q.png" in p for p in summary.problems)
    case = Case.objects.get(owner=educator)
    assert case.patient_age == 58 and case.external_id == "a.png"
    box = case.findings.get(label="Nodule").boxes.get()
    assert (box.x1, box.y1, box.x2, box.y2) == (0.1, 0.2, 0.4, 0.6)
    assert case.findings.get(label="Effusion").localizable is False
    assert Case.objects.filter(owner=educator).count() == 1  # nothing of b.png or c.png was written


def test_a_bad_age_keeps_the_case_and_is_a_warning(tmp_path: Path, educator: Any) -> None:
    # NIH's own metadata has ages such as 412: the image and its labels are still good.
    root = _nih_folder(
        tmp_path / "nih",
        [
            "a.png,Nodule,0,1,412,M,PA,2500,2048,0.14,0.14",
            "b.png,Mass,0,2,forty,F,PA,2500,2048,0.14,0.14",
            "c.png,No Finding,0,3,63,F,PA,2500,2048,0.14,0.14",
        ],
        ["a.png,Nodule,10,20,30,40"],
    )
    summary = import_path("nih", root, owner=educator)
    assert (summary.created, summary.skipped, summary.problems) == (3, [], []), summary.as_dict()
    assert summary.warning_count == 2
    assert summary.warnings[0] == (
        "a.png: Data_Entry_2017.csv:2: age '412' is not plausible; imported without an age"
    )
    assert "b.png: Data_Entry_2017.csv:3: age 'forty' is not a number" in summary.warnings[1]
    ages = dict(Case.objects.filter(owner=educator).values_list("external_id", "patient_age"))
    assert ages == {"a.png": None, "b.png": None, "c.png": 63}
    a = Case.objects.get(owner=educator, external_id="a.png")
    assert a.findings.get(label="Nodule").boxes.count() == 1 and a.patient_sex == "M"
    again = import_path("nih", root, owner=educator)
    assert (again.unchanged, again.warning_count) == (3, 2)  # still true, still said
    assert again.as_dict()["warnings"] == summary.warnings


def test_reimport_updates_changed_truth(tmp_path: Path, educator: Any, other_educator: Any) -> None:
    entries = ["a.png,Nodule,0,1,58,M,PA,1,1,1,1"]
    root = _nih_folder(tmp_path / "v1", entries, ["a.png,Nodule,10,20,30,40"])
    assert import_path("nih", root, owner=educator).created == 1
    root2 = _nih_folder(tmp_path / "v2", entries, ["a.png,Nodule,50,20,30,40"])
    summary = import_path("nih", root2, owner=educator)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 0)
    assert Case.objects.get(owner=educator).findings.get().boxes.get().x1 == 0.5
    assert "Nodule in the" in Case.objects.get(owner=educator).report.findings
    other = import_path("nih", root2, owner=other_educator)
    assert other.skipped[0]["reason"] == "already imported by another educator"


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("entry-columns", "missing column(s) Patient Age"),
        ("no-entry", "Data_Entry_2017.csv is missing"),
        ("not-utf8", "not UTF-8"),
    ],
)
def test_unusable_folders_fail_whole(
    tmp_path: Path, educator: Any, broken: str, message: str
) -> None:
    root = _nih_folder(tmp_path / "nih", ["a.png,Nodule,0,1,58,M,PA,1,1,1,1"], [])
    entry = root / "Data_Entry_2017.csv"
    if broken == "entry-columns":
        entry.write_text("Image Index,Finding Labels\na.png,Nodule\n")
    elif broken == "no-entry":
        entry.unlink()
    else:
        entry.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ImportFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_path("nih", root, owner=educator)
    assert not Case.objects.filter(owner=educator).exists()


def test_no_finding_with_a_label_or_box(tmp_path: Path, educator: Any) -> None:
    root = _nih_folder(
        tmp_path / "nih",
        ["a.png,No Finding|Nodule,0,1,58,M,PA,1,1,1,1", "b.png,No Finding,0,1,58,M,PA,1,1,1,1"],
        ["b.png,Nodule,10,10,10,10", "b.png,Nodule,10,10,x,10"],
    )
    summary = import_path("nih", root, owner=educator)
    reasons = {s["external_id"]: s["reason"] for s in summary.skipped}
    assert "'No Finding' together with Nodule" in reasons["a.png"]
    assert (
        "labelled 'No Finding'" in reasons["b.png"] and "w 'x' is not a number" in reasons["b.png"]
    )
    assert summary.created == 0
