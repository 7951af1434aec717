"""RELIABILITY S21: a DICOM whose BurnedInAnnotation is YES or absent is published only after an
educator's check of the whole image (the service, publishing, the editor's notice and endpoint,
importers of datasets their publisher de-identified)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.cases.imaging import ingest_image
from apps.cases.importers import import_path
from apps.cases.models import Case, CaseImage, CaseStatus
from apps.cases.services import (
    case_image_add,
    case_image_replace,
    case_publish,
    case_selected_set,
    image_attest_phi_checked,
)
from apps.core.exceptions import ApplicationError
from tests.cases import dicom_factory
from tests.cases.factories import make_case

pytestmark = pytest.mark.django_db
IU_BUNDLE = Path(settings.BASE_DIR) / "data" / "iu-demo"
STATEMENT = "I have looked at the whole image and it shows no patient details"


def _dicom_case(owner: Any, burned_in: str | None, *, projection: str = "") -> Case:
    """A draft with ground truth and one DICOM view whose BurnedInAnnotation is ``burned_in``."""
    case = make_case(owner, published=False, with_image=False)
    data = dicom_factory.make_dicom(burned_in=burned_in)
    case_image_add(
        actor=owner,
        case=case,
        ingested=ingest_image(data, filename="x.dcm"),
        source=data,
        projection=projection,
    )
    return case


def _published(case: Case) -> bool:
    return Case.objects.get(pk=case.pk).status == CaseStatus.PUBLISHED


class TestPublish:
    @pytest.mark.parametrize(
        ("flag", "says"),
        [("YES", "declares burned-in annotation"), (None, "does not say whether")],
    )
    def test_refused_without_a_check(self, educator: Any, flag: str | None, says: str) -> None:
        case = _dicom_case(educator, flag, projection="PA")
        assert case.images.get().burned_in_annotation == (flag or "")
        with pytest.raises(ApplicationError) as refused:
            case_publish(actor=educator, case=case)
        assert refused.value.message.startswith(f"View 1 (PA) is a DICOM that {says}")
        assert STATEMENT in refused.value.message
        assert not _published(case)

    @pytest.mark.parametrize("flag", ["YES", None])
    def test_published_after_the_check(self, educator: Any, flag: str | None) -> None:
        case = _dicom_case(educator, flag)
        before = timezone.now()
        image = image_attest_phi_checked(actor=educator, image=case.images.get(), note="  looked ")
        stored = CaseImage.objects.get(pk=image.pk)
        assert stored.phi_checked_by == educator and stored.phi_checked_at >= before
        assert stored.phi_check_note == "looked"
        case_publish(actor=educator, case=case)
        assert _published(case)

    def test_no_flag_and_png_publish_without_a_check(self, educator: Any) -> None:
        case = _dicom_case(educator, "NO")
        case_publish(actor=educator, case=case)
        png = make_case(educator, published=False)
        case_publish(actor=educator, case=png)
        assert _published(case) and _published(png)
        assert not CaseImage.objects.filter(phi_checked_at__isnull=False).exists()

    def test_the_unchecked_view_of_several_is_named(self, educator: Any) -> None:
        case = make_case(educator, published=False)  # a PNG first
        data = dicom_factory.make_dicom(burned_in="YES")
        case_image_add(
            actor=educator,
            case=case,
            ingested=ingest_image(data, filename="x.dcm"),
            source=data,
            projection="Lateral",
        )
        with pytest.raises(ApplicationError, match=r"^View 2 \(Lateral\) is a DICOM"):
            case_publish(actor=educator, case=case)

    def test_an_already_published_case_is_not_touched(self, educator: Any) -> None:
        case = _dicom_case(educator, "YES")
        Case.objects.filter(pk=case.pk).update(status=CaseStatus.PUBLISHED)  # before S21
        case_publish(actor=educator, case=case)  # re-running the hooks does not refuse
        assert _published(case)

    def test_new_pixels_need_a_new_check(self, educator: Any) -> None:
        case = _dicom_case(educator, "YES")
        image = image_attest_phi_checked(actor=educator, image=case.images.get())
        data = dicom_factory.make_dicom(burned_in="YES", rows=80)
        case_image_replace(
            actor=educator, image=image, ingested=ingest_image(data, filename="y.dcm"), source=data
        )
        stored = CaseImage.objects.get(pk=image.pk)
        assert (stored.phi_checked_by, stored.phi_checked_at, stored.phi_check_note) == (
            None,
            None,
            "",
        )
        with pytest.raises(ApplicationError, match="burned-in annotation"):
            case_publish(actor=educator, case=case)

    def test_an_unchecked_view_added_to_a_published_case_takes_it_back_to_draft(
        self, educator: Any
    ) -> None:
        case = make_case(educator)  # published, a PNG
        assert _published(case)
        data = dicom_factory.make_dicom(burned_in="NO")
        case_image_add(
            actor=educator, case=case, ingested=ingest_image(data, filename="n.dcm"), source=data
        )
        assert _published(case)  # a view that needs no check changes nothing
        data = dicom_factory.make_dicom(burned_in=None, rows=80)
        case_image_add(
            actor=educator, case=case, ingested=ingest_image(data, filename="x.dcm"), source=data
        )
        assert not _published(case)  # residents never see the unchecked view
        image_attest_phi_checked(actor=educator, image=case.images.order_by("position").last())
        case_publish(actor=educator, case=case)
        assert _published(case)

    def test_unchecked_new_pixels_in_a_published_case_take_it_back_to_draft(
        self, educator: Any
    ) -> None:
        case = _dicom_case(educator, "YES")
        image = image_attest_phi_checked(actor=educator, image=case.images.get())
        case_publish(actor=educator, case=case)
        data = dicom_factory.make_dicom(burned_in="YES", rows=80)
        case_image_replace(
            actor=educator, image=image, ingested=ingest_image(data, filename="y.dcm"), source=data
        )
        assert not _published(case)


def test_only_who_may_edit_the_case_checks(
    educator: Any, other_educator: Any, resident: Any, admin_user: Any
) -> None:
    case = _dicom_case(educator, "YES")
    image = case.images.get()
    for actor in (other_educator, resident):
        with pytest.raises(ApplicationError, match="may not edit this case"):
            image_attest_phi_checked(actor=actor, image=image)
    assert CaseImage.objects.get(pk=image.pk).phi_checked_at is None
    image_attest_phi_checked(actor=admin_user, image=image)
    assert CaseImage.objects.get(pk=image.pk).phi_checked_by == admin_user


class TestEditor:
    def test_the_notice_offers_the_check_then_shows_who_checked(
        self, educator: Any, client_for: Any
    ) -> None:
        educator.display_name = "Dr Ada Educator"
        educator.save(update_fields=["display_name"])
        case = _dicom_case(educator, None)
        image = case.images.get()
        client = client_for(educator)
        edit = reverse("cases:case_edit", args=[case.pk])
        url = reverse("cases:case_view_phi_checked", args=[case.pk, image.pk])
        page = client.get(edit).content.decode()
        assert "does not say whether it has burned-in annotation" in page
        assert f'action="{url}"' in page and 'name="confirm"' in page and STATEMENT in page
        assert "Checked by" not in page

        # Publishing from the editor is refused, with the reason shown.
        refused = client.post(reverse("cases:case_publish", args=[case.pk]), follow=True)
        # (the header's ViewPosition named the view)
        assert "View 1 (PA) is a DICOM that does not say" in refused.content.decode()
        # The button without the ticked box records nothing.
        unticked = client.post(url, follow=True).content.decode()
        assert f"Tick &#x27;{STATEMENT}&#x27;" in unticked
        assert CaseImage.objects.get(pk=image.pk).phi_checked_at is None

        response = client.post(url, {"confirm": "yes"})
        assert response.status_code == 302 and response["Location"] == edit
        stored = CaseImage.objects.get(pk=image.pk)
        assert stored.phi_checked_by == educator and stored.phi_checked_at is not None
        page = client.get(edit).content.decode()
        day = timezone.localdate(stored.phi_checked_at).isoformat()
        assert f"Checked by Dr Ada Educator on {day}." in page
        assert 'name="confirm"' not in page
        client.post(reverse("cases:case_publish", args=[case.pk]))
        assert _published(case)

    def test_personas(self, personas: dict[str, Any], client_for: Any) -> None:
        case = _dicom_case(personas["educator"], "YES")
        image = case.images.get()
        url = reverse("cases:case_view_phi_checked", args=[case.pk, image.pk])
        data = {"confirm": "yes"}
        assert client_for(None).post(url, data).status_code == 302  # to the login page
        assert "/login/" in client_for(None).post(url, data)["Location"]
        for persona in ("resident", "outsider"):
            assert client_for(personas[persona]).post(url, data).status_code == 403, persona
        assert client_for(personas["other_educator"]).post(url, data).status_code == 404
        assert client_for(personas["educator"]).get(url).status_code == 405
        assert CaseImage.objects.get(pk=image.pk).phi_checked_at is None
        # A view of another case cannot be checked through this case's URL.
        other = _dicom_case(personas["educator"], "YES")
        wrong = reverse("cases:case_view_phi_checked", args=[case.pk, other.images.get().pk])
        assert client_for(personas["educator"]).post(wrong, data).status_code == 404
        assert client_for(personas["educator"]).post(url, data).status_code == 302
        assert CaseImage.objects.get(pk=image.pk).phi_checked_by == personas["educator"]


class TestImporters:
    def _iu_with_dicom(self, root: Path, burned_in: str | None) -> Path:
        """IU X-ray's reports CSV with study 7 as a DICOM (Open-i also ships DICOM)."""
        (root / "images").mkdir(parents=True)
        shutil.copy(IU_BUNDLE / "indiana_reports.csv", root / "indiana_reports.csv")
        data = dicom_factory.make_dicom(burned_in=burned_in)
        (root / "images" / "CXR7_IM-2263-1001.dcm").write_bytes(data)
        return root

    def test_a_publisher_deidentified_dataset_is_checked_by_the_importer(
        self, educator: Any, tmp_path: Path
    ) -> None:
        root = self._iu_with_dicom(tmp_path / "iu", None)
        summary = import_path("reports", root, owner=educator, publish=True)
        assert summary.created == 1, summary.as_dict()
        case = Case.objects.get(external_id="7")
        image = case.images.get()
        assert image.kind == "dicom" and image.burned_in_annotation == ""
        assert case.is_published
        assert image.phi_checked_by == educator and image.phi_checked_at is not None
        assert image.phi_check_note == "de-identified by the dataset's publisher: IU X-ray"

    def test_a_dicom_of_another_dataset_waits_for_the_educator(
        self, educator: Any, tmp_path: Path
    ) -> None:
        folder = tmp_path / "dicoms"
        folder.mkdir()
        (folder / "a.dcm").write_bytes(dicom_factory.make_dicom(burned_in="YES"))
        assert import_path("dicom", folder, owner=educator).created == 1
        image = CaseImage.objects.get()
        assert image.phi_checked_at is None and image.phi_check_note == ""
        case = image.case
        case_selected_set(actor=educator, case=case, labels=["Effusion"])  # the truth
        with pytest.raises(ApplicationError, match="declares burned-in annotation"):
            case_publish(actor=educator, case=case)
