"""RELIABILITY S21's optional OCR flag in the app: a view in which tesseract finds text waits for
the educator's check of the whole image, by the same rule as a DICOM whose BurnedInAnnotation is
YES or absent (publishing refused until attested; an unchecked view added to a published case
takes it back to draft). The verdict and the engine are stored, never the text.

Test settings turn OCR off; these tests turn it on. Those that run tesseract skip only where
tesseract-ocr is not installed (.ci/run installs it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from apps.cases.imaging import ingest_image, ocr
from apps.cases.importers import import_path
from apps.cases.models import Case, CaseImage, CaseStatus
from apps.cases.services import (
    INGEST_JOB,
    case_image_add,
    case_publish,
    image_attest_phi_checked,
)
from apps.cases.services import images as image_services
from apps.core.exceptions import ApplicationError
from apps.inference.models import Job
from tests.cases import dicom_factory
from tests.cases.factories import make_case
from tests.cases.imaging.ocr_images import with_text, without_text
from tests.cases.imaging.test_ocr import needs_tesseract
from tests.cases.test_import_nih import _nih_folder

pytestmark = pytest.mark.django_db
NAME = "DOE^JANE"


@pytest.fixture(autouse=True)
def ocr_on(settings: Any) -> None:
    settings.RADGAME_OCR = "auto"


def _add(owner: Any, case: Case, data: bytes, name: str = "film.png") -> CaseImage:
    return case_image_add(
        actor=owner, case=case, ingested=ingest_image(data, filename=name), source=data
    )


def _draft_with(owner: Any, data: bytes) -> Case:
    case = make_case(owner, published=False, with_image=False)
    _add(owner, case, data)
    return case


def _published(case: Case) -> bool:
    return Case.objects.get(pk=case.pk).status == CaseStatus.PUBLISHED


@needs_tesseract
class TestHold:
    def test_a_png_with_text_is_published_only_after_the_check(self, educator: Any) -> None:
        case = _draft_with(educator, with_text(0))
        image = case.images.get()
        assert image.ocr_status == "text" and image.ocr_engine.startswith("tesseract ")
        assert image.kind == "png" and image.needs_phi_check and image.blocks_publishing
        with pytest.raises(ApplicationError) as refused:
            case_publish(actor=educator, case=case)
        assert refused.value.message.startswith("View 1 shows text (found by OCR): look at")
        assert not _published(case)
        image_attest_phi_checked(actor=educator, image=image)
        case_publish(actor=educator, case=case)
        assert _published(case)

    def test_a_png_without_text_publishes_as_before(self, educator: Any) -> None:
        case = _draft_with(educator, without_text(0))
        image = case.images.get()
        assert image.ocr_status == "clear" and not image.needs_phi_check
        case_publish(actor=educator, case=case)
        assert _published(case)

    def test_a_view_with_text_added_to_a_published_case_takes_it_back_to_draft(
        self, educator: Any
    ) -> None:
        case = _draft_with(educator, without_text(1))
        case_publish(actor=educator, case=case)
        image = _add(educator, case, with_text(13))
        assert not _published(case)
        image_attest_phi_checked(actor=educator, image=image)
        case_publish(actor=educator, case=case)
        assert _published(case)

    def test_a_dicom_flagged_no_with_text_in_its_pixels_is_held(self, educator: Any) -> None:
        case = make_case(educator, published=False, with_image=False)
        data = dicom_factory.make_dicom(burned_in="NO", rows=64)
        image = _add(educator, case, data, "x.dcm")
        # The factory's DICOM is a smooth ramp: OCR reads it, finds nothing, the flag rules.
        assert image.ocr_status == "clear" and not image.needs_phi_check
        image.ocr_status = ocr.FLAGGED  # as if its pixels carried a name the header denies
        assert image.needs_phi_check and image.blocks_publishing

    def test_the_text_itself_is_stored_and_logged_nowhere(
        self, educator: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        case = _draft_with(educator, with_text(10))  # DOE^JANE, 48 px
        assert case.images.get().ocr_status == "text"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM cases_caseimage WHERE "
                "CAST(cases_caseimage.* AS text) ILIKE %s",
                ["%JANE%"],
            )
            assert cursor.fetchone()[0] == 0
        assert "JANE" not in caplog.text.upper()
        assert "OCR of a 1024x1024 view: text in" in caplog.text


@needs_tesseract
def test_an_upload_is_read_in_the_ingest_job(
    educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any, media_root: Path
) -> None:
    client = client_for(educator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("cases:case_new"), {"file": SimpleUploadedFile("a.png", with_text(4))})
    job = Job.objects.get(kind=INGEST_JOB)
    job.refresh_from_db()
    assert job.status == "done", job.result
    case = Case.objects.get(pk=job.result["case_id"])
    assert case.images.get().ocr_status == "text"
    page = client.get(reverse("cases:case_edit", args=[case.pk])).content.decode()
    assert "Text detected in the image (OCR, tesseract " in page
    assert "check for names before publishing" in page
    assert 'name="confirm"' in page  # the same check as a DICOM's


class TestWithoutOcr:
    def test_without_tesseract_the_editor_says_so(
        self, educator: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(ocr, "_engine_version", lambda: "")
        case = _draft_with(educator, with_text(0))
        image = case.images.get()
        assert (image.ocr_status, image.ocr_engine) == ("unavailable", "")
        page = client_for(educator).get(reverse("cases:case_edit", args=[case.pk])).content.decode()
        said = page.index("OCR not available (tesseract-ocr is not installed)")
        # A verdict that holds nothing is said in the list of views, not in the notices above
        # the viewer (a longer notice pushed the viewer down; see docs/educators.md).
        assert page.index('class="view-list"') < said
        case_publish(actor=educator, case=case)  # a PNG: as before OCR existed
        assert _published(case)

    def test_off_reads_nothing(self, educator: Any, settings: Any) -> None:
        settings.RADGAME_OCR = "off"
        case = _draft_with(educator, with_text(0))
        assert case.images.get().ocr_status == "off"
        case_publish(actor=educator, case=case)
        assert _published(case)


class TestReadBeforeTheTransaction:
    """The upload and import jobs read each view for text before the transaction that stores it
    opens: no lock or pooled connection waits on tesseract (about 0.4 CPU-s a view)."""

    pytestmark = pytest.mark.django_db(transaction=True)

    @pytest.fixture
    def reads(self, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
        """Each OCR read, as whether a transaction was open; every view comes out flagged."""
        seen: list[bool] = []

        def scan(display_png: bytes, **_: Any) -> ocr.OcrResult:
            seen.append(connection.in_atomic_block)
            return ocr.OcrResult(ocr.FLAGGED, "tesseract (spy)")

        monkeypatch.setattr(image_services, "scan_for_text", scan)
        return seen

    def test_an_upload(
        self, reads: list[bool], educator: Any, client_for: Any, media_root: Path
    ) -> None:
        client_for(educator).post(
            reverse("cases:case_new"), {"file": SimpleUploadedFile("a.png", without_text(0))}
        )
        job = Job.objects.get(kind=INGEST_JOB)
        assert job.status == "done", job.result
        image = Case.objects.get(pk=job.result["case_id"]).images.get()
        assert (image.ocr_status, image.ocr_engine) == ("text", "tesseract (spy)")
        assert reads == [False]

    def test_an_import(self, reads: list[bool], educator: Any, tmp_path: Path) -> None:
        root = _nih_folder(tmp_path / "nih", ["a.png,Nodule,0,1,058Y,M,PA,2500,2048,0.14,0.14"], [])
        assert import_path("nih", root, owner=educator).created == 1
        assert CaseImage.objects.get().ocr_status == "text"
        assert reads == [False]
