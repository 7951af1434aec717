"""IU X-ray (Open-i): the bundled nine studies through the ``reports`` importer (views grouped from
Open-i's projections list, frontal first), the bundle's integrity, and re-import idempotence."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.cases.importers import import_path
from apps.cases.models import Case

pytestmark = pytest.mark.django_db
BUNDLE = Path(settings.BASE_DIR) / "data" / "iu-demo"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (BUNDLE / "pairs.jsonl").read_text().splitlines()]


def test_bundle_files_are_the_unmodified_originals() -> None:
    # CC BY-NC-ND: only unmodified copies may be shared; the checksums are the originals'.
    for line in (BUNDLE / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((BUNDLE / name).read_bytes()).hexdigest() == digest, name
    assert "CC BY-NC-ND 4.0" in (BUNDLE / "ATTRIBUTION.md").read_text()


def test_the_csvs_carry_the_same_reports_and_views_as_pairs_jsonl() -> None:
    # The Open-i CSVs are what the importer reads; pairs.jsonl is the provenance record.
    with (BUNDLE / "indiana_reports.csv").open(newline="") as handle:
        reports = {row["uid"]: row for row in csv.DictReader(handle)}
    with (BUNDLE / "indiana_projections.csv").open(newline="") as handle:
        views = [(row["uid"], row["filename"], row["projection"]) for row in csv.DictReader(handle)]
    pairs = _pairs()
    assert sorted(reports) == sorted(str(p["uid"]) for p in pairs)
    for pair in pairs:
        row = reports[str(pair["uid"])]
        for column in ("indication", "comparison", "findings", "impression"):
            assert row[column] == pair[column], (pair["uid"], column)
    assert views == [
        (str(p["uid"]), image["openi_kaggle_filename"], image["projection"])
        for p in pairs
        for image in p["images"]
    ]


def test_nine_studies_with_their_views_and_radiologists_reports(educator: Any) -> None:
    summary = import_path("reports", BUNDLE, owner=educator, case_set_name="IU", publish=True)
    assert (summary.created, summary.skipped, summary.problems) == (9, [], []), summary.as_dict()
    cases = {case.external_id: case for case in Case.objects.prefetch_related("images")}
    assert len(cases) == 9 and all(case.is_published for case in cases.values())
    expected = {str(p["uid"]): [i["projection"] for i in p["images"]] for p in _pairs()}
    expected["1000"] = ["Frontal", "Frontal", "Lateral"]  # frontal first
    for uid, projections in expected.items():
        images = list(cases[uid].images.order_by("position"))
        assert [image.projection for image in images] == projections, uid
        assert [image.position for image in images] == list(range(len(projections)))
    seven = cases["7"]
    assert seven.report.findings.startswith("The cardiac contours are normal.")
    assert not seven.report.is_derived and "radiologist" in seven.report.source
    assert seven.comparison == "XXXX, XXXX" and "Open-i" in seven.attribution
    assert seven.licence.startswith("CC BY-NC-ND 4.0")
    # Study 3 has only an impression: it becomes the reference, and the source says so.
    three = cases["3"].report
    assert three.findings.startswith("No displaced rib fractures")
    assert "impression is the reference" in three.source
    assert cases["1"].is_normal and not cases["7"].is_normal

    again = import_path("reports", BUNDLE, owner=educator, case_set_name="IU", publish=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 9), again.as_dict()


def test_a_view_added_or_dropped_in_the_source_follows_on_reimport(
    educator: Any, tmp_path: Path
) -> None:
    root = tmp_path / "iu"
    (root / "images").mkdir(parents=True)
    for name in ("CXR7_IM-2263-1001.png", "CXR7_IM-2263-2001.png"):
        shutil.copy(BUNDLE / "images" / name, root / "images" / name)
    shutil.copy(BUNDLE / "indiana_reports.csv", root / "indiana_reports.csv")
    projections = root / "indiana_projections.csv"
    projections.write_text("uid,filename,projection\n7,7_IM-2263-1001.dcm.png,Frontal\n")
    first = import_path("reports", root, owner=educator)
    # The other eight uids have no image here: each is reported, the run goes on.
    assert first.created == 1 and first.problem_count == 8
    case = Case.objects.get(external_id="7")
    assert [i.projection for i in case.images.all()] == ["Frontal"]

    projections.write_text(
        "uid,filename,projection\n7,7_IM-2263-2001.dcm.png,Lateral\n"
        "7,7_IM-2263-1001.dcm.png,Frontal\n7,7_IM-9999-1001.dcm.png,Lateral\n"
    )
    second = import_path("reports", root, owner=educator)
    assert second.updated == 1
    # A listed view that is absent loses nothing of what is there: a warning, not a problem.
    assert not any("listed" in p for p in second.problems) and second.warning_count == 1
    assert "1 listed image(s) are not in the folder: 7_IM-9999-1001" in second.warnings[0]
    assert [i.projection for i in case.images.order_by("position")] == ["Frontal", "Lateral"]
    frontal_sha = case.images.get(position=0).sha256

    projections.write_text("uid,filename,projection\n7,7_IM-2263-1001.dcm.png,Frontal\n")
    third = import_path("reports", root, owner=educator)
    assert third.updated == 1
    assert [(i.position, i.sha256) for i in case.images.all()] == [(0, frontal_sha)]
