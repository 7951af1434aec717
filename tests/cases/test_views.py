"""Authoring pages: who may open them, and the editor, set builder and import flows."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.cases.models import Case, CaseSet
from apps.cases.services.imports import IMPORT_JOB
from apps.inference.models import Job
from tests.cases.factories import make_case, make_set, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def own(educator: Any, cohort: Any) -> dict[str, Any]:
    case = make_case(educator, title="Own case")
    case_set = make_set(educator, [case], cohort=cohort)
    return {"case": case, "set": case_set}


def _pages(own: dict[str, Any]) -> list[str]:
    case, case_set = own["case"], own["set"]
    return [
        reverse("cases:library"),
        reverse("cases:case_new"),
        reverse("cases:case_edit", args=[case.pk]),
        reverse("cases:case_preview", args=[case.pk]),
        reverse("cases:set_list"),
        reverse("cases:set_detail", args=[case_set.pk]),
        reverse("cases:import"),
    ]


def test_pages_for_each_persona(
    personas: dict[str, Any], own: dict[str, Any], client_for: Any
) -> None:
    object_pages = set(_pages(own)[2:4] + _pages(own)[5:6])
    for url in _pages(own):
        assert client_for(personas["educator"]).get(url).status_code == 200, url
        assert client_for(personas["admin"]).get(url).status_code == 200, url
        assert client_for(personas["resident"]).get(url).status_code == 403, url
        assert client_for(personas["outsider"]).get(url).status_code == 403, url
        assert client_for(None).get(url).status_code == 302, url
        expected = 404 if url in object_pages else 200
        assert client_for(personas["other_educator"]).get(url).status_code == expected, url


def test_post_endpoints_refuse_residents_and_strangers(
    personas: dict[str, Any], own: dict[str, Any], client_for: Any, cohort: Any
) -> None:
    case, case_set = own["case"], own["set"]
    posts = [
        reverse("cases:case_publish", args=[case.pk]),
        reverse("cases:set_case_add", args=[case_set.pk]),
        reverse("cases:set_case_remove", args=[case_set.pk, case.pk]),
        reverse("cases:set_case_move", args=[case_set.pk, case.pk, "up"]),
        reverse("cases:set_assign", args=[case_set.pk]),
        reverse("cases:set_unassign", args=[case_set.pk, cohort.pk]),
    ]
    for url in posts:
        assert (
            client_for(personas["resident"]).post(url, {"case_id": case.pk}).status_code == 403
        ), url
        assert (
            client_for(personas["other_educator"]).post(url, {"case_id": case.pk}).status_code
            == 404
        ), url
        assert client_for(personas["educator"]).get(url).status_code == 405, url
    assert case_set.items.count() == 1 and case_set.assignments.count() == 1


def test_editor_save(educator: Any, client_for: Any) -> None:
    case = make_case(educator, published=False)
    url = reverse("cases:case_edit", args=[case.pk])
    marks = {"boxes": [{"label": "Pneumothorax", "box": [0.6, 0.1, 0.9, 0.4], "confidence": None}]}
    response = client_for(educator).post(
        url,
        {
            "title": "Left pneumothorax",
            "patient_age": "34",
            "patient_sex": "M",
            "view": "PA",
            "indication": "Sudden chest pain",
            "difficulty": "3",
            "tags": "trauma, urgent",
            "marks": json.dumps(marks),
            "selected": ["Emphysema"],
            "report_findings": "Left apical pneumothorax.",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.title, case.patient_age, case.difficulty, case.tags) == (
        "Left pneumothorax",
        34,
        3,
        ["trauma", "urgent"],
    )
    assert sorted((f.label, f.localizable) for f in case.findings.all()) == [
        ("Emphysema", False),
        ("Pneumothorax", True),
    ]
    assert case.report.findings == "Left apical pneumothorax." and case.report.source == "educator"
    page = client_for(educator).get(url).content.decode()
    assert "Pneumothorax" in page and 'id="marks-json"' in page and 'mode="annotate"' in page


def test_editor_errors_keep_the_case(educator: Any, client_for: Any) -> None:
    case = make_case(educator, published=False)
    url = reverse("cases:case_edit", args=[case.pk])
    base = {"title": "T", "difficulty": "2", "report_findings": "x"}
    bad_label = {"boxes": [{"label": "Wibble", "box": [0.1, 0.1, 0.2, 0.2]}]}
    response = client_for(educator).post(url, {**base, "marks": json.dumps(bad_label)})
    assert response.status_code == 200 and "Unknown finding label" in response.content.decode()
    response = client_for(educator).post(
        url,
        {
            **base,
            "marks": json.dumps({"boxes": [{"label": "Nodule", "box": [0.1, 0.1, 0.2, 0.2]}]}),
            "is_normal": "on",
        },
    )
    assert "no findings" in response.content.decode()
    case.refresh_from_db()
    assert case.title == "Case" and case.findings.get().label == "Nodule"


def test_publish_and_unpublish(educator: Any, client_for: Any) -> None:
    draft = make_case(educator, published=False, with_truth=False)
    url = reverse("cases:case_publish", args=[draft.pk])
    response = client_for(educator).post(url, follow=True)
    assert "Add the ground truth" in response.content.decode()
    ready = make_case(educator, published=False)
    client_for(educator).post(reverse("cases:case_publish", args=[ready.pk]))
    ready.refresh_from_db()
    assert ready.is_published
    client_for(educator).post(reverse("cases:case_publish", args=[ready.pk]), {"publish": "0"})
    ready.refresh_from_db()
    assert not ready.is_published


def test_preview_has_no_answers(educator: Any, client_for: Any) -> None:
    case = make_case(educator)
    page = client_for(educator).get(reverse("cases:case_preview", args=[case.pk])).content.decode()
    assert 'mode="view"' in page and "cough" in page
    assert "GTCANARY" not in page and "0.123457" not in page and "Nodule" not in page


def test_library_filters_and_partial(educator: Any, client_for: Any) -> None:
    make_case(educator, title="Alpha", published=False)
    make_case(educator, title="Beta")
    client = client_for(educator)
    page = client.get(reverse("cases:library"), {"q": "alp"}).content.decode()
    assert "Alpha" in page and "Beta" not in page
    partial = client.get(
        reverse("cases:library"), {"status": "published"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Beta" in partial and "Alpha" not in partial and "<html" not in partial


def test_set_builder_flow(educator: Any, client_for: Any, cohort: Any, other_cohort: Any) -> None:
    client = client_for(educator)
    response = client.post(
        reverse("cases:set_list"), {"name": "Week 1", "mode": "assessment", "iou_threshold": "0.4"}
    )
    case_set = CaseSet.objects.get(name="Week 1")
    assert response["Location"] == reverse("cases:set_detail", args=[case_set.pk])
    cases = [make_case(educator, title=f"c{i}") for i in range(2)]
    for case in cases:
        client.post(reverse("cases:set_case_add", args=[case_set.pk]), {"case_id": case.pk})
    partial = client.post(
        reverse("cases:set_case_move", args=[case_set.pk, cases[1].pk, "up"]),
        HTTP_HX_REQUEST="true",
    )
    assert partial.status_code == 200 and 'id="set-items"' in partial.content.decode()
    assert [i.case.title for i in case_set.items.order_by("position")] == ["c1", "c0"]
    assert (
        client.post(
            reverse("cases:set_case_move", args=[case_set.pk, cases[1].pk, "sideways"])
        ).status_code
        == 404
    )
    client.post(reverse("cases:set_case_remove", args=[case_set.pk, cases[0].pk]))
    assert [i.case.title for i in case_set.items.all()] == ["c1"]
    client.post(
        reverse("cases:set_assign", args=[case_set.pk]),
        {"cohort": cohort.pk, "due_at": "2027-03-01T09:00"},
    )
    assert case_set.assignments.get().due_at.year == 2027
    refused = client.post(
        reverse("cases:set_assign", args=[case_set.pk]), {"cohort": other_cohort.pk}
    )
    assert (
        refused.status_code == 400 and not case_set.assignments.filter(cohort=other_cohort).exists()
    )
    client.post(reverse("cases:set_unassign", args=[case_set.pk, cohort.pk]))
    assert not case_set.assignments.exists()
    client.post(
        reverse("cases:set_detail", args=[case_set.pk]),
        {"name": "Week 1b", "mode": "practice", "iou_threshold": "0.3", "shared": "on"},
    )
    case_set.refresh_from_db()
    assert (case_set.name, case_set.mode, case_set.shared) == ("Week 1b", "practice", True)


def test_add_someone_elses_case_is_404(educator: Any, other_educator: Any, client_for: Any) -> None:
    case_set = make_set(educator, [], shared=True)
    theirs = make_case(other_educator)
    assert (
        client_for(educator)
        .post(reverse("cases:set_case_add", args=[case_set.pk]), {"case_id": theirs.pk})
        .status_code
        == 404
    )
    assert (
        client_for(educator)
        .post(reverse("cases:set_case_add", args=[case_set.pk]), {"case_id": "x"})
        .status_code
        == 404
    )


def _coco_zip(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    coco = {
        "images": [{"id": 7, "file_name": "a.png", "width": 100, "height": 100}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [10, 10, 20, 20]}],
        "categories": [{"id": 1, "name": "Mass"}],
    }
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("set/coco.json", json.dumps(coco))
        archive.writestr("set/a.png", png_bytes(100, 100))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_import_page_flow(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any, media_root: Any
) -> None:
    client = client_for(educator)
    upload = SimpleUploadedFile("dataset.zip", _coco_zip())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("cases:import"),
            {"format": "coco", "file": upload, "case_set": "Imported", "publish": "on"},
        )
    job = Job.objects.get(kind=IMPORT_JOB)
    assert response["Location"] == reverse("cases:import_status", args=[job.pk])
    job.refresh_from_db()
    assert job.result["status"] == "done" and job.result["summary"]["created"] == 1
    assert job.progress["done"] == job.progress["total"] == 1
    page = client.get(reverse("cases:import_status", args=[job.pk])).content.decode()
    assert "<strong>1</strong> created" in page
    case = Case.objects.get()
    assert case.is_published and case.set_items.get().case_set.name == "Imported"
    assert not list((media_root / "uploads").iterdir())


def test_import_page_lists_warnings_apart_from_problems(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    header = (
        "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,"
        "View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Data_Entry_2017.csv",
            header
            + "a.png,Nodule,0,1,412,M,PA,100,100,0.1,0.1\n"
            + "b.png,Glorboma,0,2,40,F,PA,100,100,0.1,0.1\n",
        )
        for name in ("a.png", "b.png"):
            archive.writestr(f"images/{name}", png_bytes(100, 100))
    client = client_for(educator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("cases:import"),
            {"format": "nih", "file": SimpleUploadedFile("nih.zip", buffer.getvalue())},
        )
    job = Job.objects.get(kind=IMPORT_JOB)
    job.refresh_from_db()
    assert job.result["status"] == "done", job.result
    summary = job.result["summary"]
    assert (summary["created"], summary["skipped_count"], summary["warning_count"]) == (1, 1, 1)
    page = client.get(reverse("cases:import_status", args=[job.pk])).content.decode()
    assert "<strong>1</strong> warning." in page
    warnings = page.split("<h2>Warnings</h2>")[1].split("</ul>")[0]
    assert "age &#x27;412&#x27; is not plausible; imported without an age" in warnings
    assert "Glorboma" not in warnings
    skipped = page.split("<h2>Skipped</h2>")[1].split("</ul>")[0]
    assert "Glorboma" in skipped and "412" not in skipped
    assert Case.objects.get().patient_age is None


def test_import_zip_with_traversal_is_refused(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    upload = SimpleUploadedFile("evil.zip", _coco_zip({"../../escape.png": png_bytes()}))
    with django_capture_on_commit_callbacks(execute=True):
        client_for(educator).post(reverse("cases:import"), {"format": "coco", "file": upload})
    job = Job.objects.get(kind=IMPORT_JOB)
    job.refresh_from_db()
    assert job.result["status"] == "rejected" and "archive was refused" in job.result["message"]
    page = client_for(educator).get(reverse("cases:import_status", args=[job.pk])).content.decode()
    assert "Nothing was imported" in page
    assert not Case.objects.exists()


def test_import_status_live_region(educator: Any, other_educator: Any, client_for: Any) -> None:
    from apps.inference.services import inference_job_dispatch

    job = inference_job_dispatch(
        kind=IMPORT_JOB, payload={"format": "nih"}, owner=educator, subject="t"
    )
    job.progress = {"done": 3, "total": 10, "message": "Imported a.png"}
    job.save()
    response = client_for(educator).get(
        reverse("cases:import_status", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert (
        response.status_code == 200
        and f'data-job="{job.pk}"' in body
        and "every 2s, refresh" in body
    )
    assert 'value="3"' in body and "3 / 10" in body
    assert (
        client_for(other_educator).get(reverse("cases:import_status", args=[job.pk])).status_code
        == 404
    )
