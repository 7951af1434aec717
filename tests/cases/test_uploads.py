"""A case from an uploaded file: the upload is kept first, parsed in a job, and every failure is
a clear rejection on the upload's status page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.cases.models import Case
from apps.cases.services import INGEST_JOB
from apps.inference.models import Job
from tests.cases.factories import png_bytes

pytestmark = pytest.mark.django_db
DICOM_DIR = Path(settings.BASE_DIR) / "data" / "cxr-demo" / "dicom"


def _upload(client: Any, capture: Any, data: bytes, name: str, **extra: Any) -> Any:
    with capture(execute=True):
        response = client.post(
            reverse("cases:case_new"), {"file": SimpleUploadedFile(name, data), **extra}
        )
    return response


def _job(response: Any) -> Job:
    assert response.status_code == 302, response.content[:500]
    job = Job.objects.get(kind=INGEST_JOB)
    assert response["Location"] == reverse("cases:upload_status", args=[job.pk])
    return job


def test_chest_dicom_becomes_a_draft_case(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any, media_root: Path
) -> None:
    client = client_for(educator)
    response = _upload(
        client,
        django_capture_on_commit_callbacks,
        (DICOM_DIR / "RG1_J2KI.dcm").read_bytes(),
        "RG1_J2KI.dcm",
        title="Chest CR",
    )
    job = _job(response)
    job.refresh_from_db()
    assert job.status == "done" and job.result["status"] == "created", job.result
    case = Case.objects.get(pk=job.result["case_id"])
    assert case.title == "Chest CR" and case.status == "draft" and case.owner == educator
    image = case.images.get()
    assert image.kind == "dicom" and image.original.name.endswith(".dcm")
    assert image.pixels16.name.endswith(".png")
    assert "RG1" not in image.original.name
    page = client.get(reverse("cases:upload_status", args=[job.pk]))
    assert reverse("cases:case_edit", args=[case.pk]) in page.content.decode()
    assert not list((media_root / "uploads").iterdir())  # the upload was removed once stored
    editor = client.get(reverse("cases:case_edit", args=[case.pk])).content.decode()
    assert "burned-in" in editor


def test_extremity_dicom_is_refused_clearly(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any, media_root: Path
) -> None:
    client = client_for(educator)
    response = _upload(
        client,
        django_capture_on_commit_callbacks,
        (DICOM_DIR / "RG3_J2KI.dcm").read_bytes(),
        "RG3_J2KI.dcm",
    )
    job = _job(response)
    job.refresh_from_db()
    assert job.result["status"] == "rejected"
    assert "only chest radiographs" in job.result["message"]
    assert not Case.objects.exists()
    page = client.get(reverse("cases:upload_status", args=[job.pk])).content.decode()
    assert "The upload was refused" in page and "only chest radiographs" in page
    assert not list((media_root / "uploads").iterdir())


def test_extremity_accepted_with_the_override(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = _upload(
        client_for(educator),
        django_capture_on_commit_callbacks,
        (DICOM_DIR / "RG3_J2KI.dcm").read_bytes(),
        "x.dcm",
        allow_non_chest="on",
    )
    job = _job(response)
    job.refresh_from_db()
    assert job.result["status"] == "created"
    assert any("non-chest override" in w for w in job.result["warnings"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg onload=alert(1)></svg>", "SVG or HTML"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00" * 50, "DICOM"),
    ],
)
def test_bad_files_are_rejected(
    educator: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    data: bytes,
    message: str,
) -> None:
    job = _job(_upload(client_for(educator), django_capture_on_commit_callbacks, data, "scan.png"))
    job.refresh_from_db()
    assert job.result["status"] == "rejected"
    assert message in job.result["message"]
    assert not Case.objects.exists()


def test_png_with_appended_html_is_reencoded(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = png_bytes(32, 32) + b"<script>alert(1)</script>"
    job = _job(_upload(client_for(educator), django_capture_on_commit_callbacks, data, "a.png"))
    job.refresh_from_db()
    image = Case.objects.get().images.get()
    for field in (image.original, image.display):
        with field.open("rb") as handle:
            assert b"<script" not in handle.read()


def test_internal_error_becomes_a_rejection(
    educator: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from apps.cases.services import uploads

    def explode(**kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(uploads, "case_image_add", explode)
    job = _job(
        _upload(client_for(educator), django_capture_on_commit_callbacks, png_bytes(), "a.png")
    )
    job.refresh_from_db()
    assert job.status == "done" and job.result["status"] == "rejected"
    assert "internal error" in job.result["message"] and "fire" not in job.result["message"]
    assert not Case.objects.exists()


def test_size_limit(educator: Any, client_for: Any, settings: Any) -> None:
    settings.RADGAME_MAX_UPLOAD_BYTES = 2048
    response = client_for(educator).post(
        reverse("cases:case_new"), {"file": SimpleUploadedFile("a.png", b"x" * 4096)}
    )
    assert response.status_code == 200
    assert "the limit is" in response.content.decode()
    assert not Job.objects.filter(kind=INGEST_JOB).exists()


def test_upload_pages_are_for_educators_only(
    educator: Any,
    other_educator: Any,
    resident: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert client_for(resident).get(reverse("cases:case_new")).status_code == 403
    assert (
        client_for(resident)
        .post(reverse("cases:case_new"), {"file": SimpleUploadedFile("a.png", png_bytes())})
        .status_code
        == 403
    )
    assert client_for(None).get(reverse("cases:case_new")).status_code == 302
    job = _job(
        _upload(client_for(educator), django_capture_on_commit_callbacks, png_bytes(), "a.png")
    )
    assert (
        client_for(other_educator).get(reverse("cases:upload_status", args=[job.pk])).status_code
        == 404
    )
    assert (
        client_for(educator).get(reverse("cases:import_status", args=[job.pk])).status_code == 404
    )


def test_status_region_stops_polling_when_final(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _job(
        _upload(client_for(educator), django_capture_on_commit_callbacks, png_bytes(), "a.png")
    )
    response = client_for(educator).get(
        reverse("cases:upload_status", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 286
    assert "hx-trigger" not in response.content.decode()
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
