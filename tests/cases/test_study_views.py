"""A study's views: the services that add, name, move and remove them (and their guards), the
editor's pages for each persona, adding a view by upload, and the views as players receive them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.cases.imaging import ingest_image
from apps.cases.models import CaseImage, FindingBox
from apps.cases.services import (
    case_boxes_set,
    case_image_add,
    case_image_move,
    case_image_projection_set,
    case_image_remove,
    case_unpublish,
)
from apps.core.exceptions import ApplicationError
from apps.inference.models import Job
from tests.cases.factories import make_case, make_set, png_bytes

pytestmark = pytest.mark.django_db
DICOM_DIR = Path(settings.BASE_DIR) / "data" / "cxr-demo" / "dicom"


def _add(owner: Any, case: Any, projection: str = "", value: int = 90) -> CaseImage:
    data = png_bytes(value=value)
    ingested = ingest_image(data, filename="v.png")
    return case_image_add(
        actor=owner, case=case, ingested=ingested, source=data, projection=projection
    )


def _order(case: Any) -> list[tuple[int, str]]:
    return list(case.images.order_by("position").values_list("pk", "projection"))


@pytest.fixture
def study(educator: Any) -> Any:
    """A draft case without boxes and three views: frontal, lateral, unnamed."""
    case = make_case(educator, with_truth=False, with_image=False, published=False)
    for projection, value in (("frontal", 80), ("LAT", 120), ("", 160)):
        _add(educator, case, projection, value)
    return case


class TestServices:
    def test_views_are_ordered_and_named(self, study: Any) -> None:
        assert [p for _, p in _order(study)] == ["Frontal", "Lateral", ""]
        assert [i.position for i in study.images.order_by("position")] == [0, 1, 2]

    def test_move_and_remove_keep_positions_dense(self, educator: Any, study: Any) -> None:
        first, second, third = (pk for pk, _ in _order(study))
        case_image_move(actor=educator, image=CaseImage.objects.get(pk=third), direction="up")
        assert [pk for pk, _ in _order(study)] == [first, third, second]
        case_image_move(actor=educator, image=CaseImage.objects.get(pk=first), direction="up")
        assert [pk for pk, _ in _order(study)] == [first, third, second]  # already first
        case_image_remove(actor=educator, image=CaseImage.objects.get(pk=third))
        assert [pk for pk, _ in _order(study)] == [first, second]
        assert list(study.images.values_list("position", flat=True)) == [0, 1]
        with pytest.raises(ApplicationError, match="up or down"):
            case_image_move(actor=educator, image=CaseImage.objects.get(pk=first), direction="x")

    def test_removed_view_files_go_after_commit(
        self, educator: Any, study: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        image = study.images.order_by("position").last()
        storage = image.display.storage
        names = [image.original.name, image.display.name]
        with django_capture_on_commit_callbacks(execute=True):
            case_image_remove(actor=educator, image=image)
        assert not any(storage.exists(name) for name in names)

    def test_projection_names_are_checked(self, educator: Any, study: Any) -> None:
        image = study.images.order_by("position").last()
        assert case_image_projection_set(actor=educator, image=image, projection="ap").projection
        assert image.projection == "AP"
        with pytest.raises(ApplicationError, match="The view is one of"):
            case_image_projection_set(actor=educator, image=image, projection="sideways")

    def test_boxes_stay_on_their_view_and_pin_it(self, educator: Any, study: Any) -> None:
        first, second, third = (CaseImage.objects.get(pk=pk) for pk, _ in _order(study))
        box = [0.1, 0.1, 0.3, 0.3]
        case_boxes_set(
            actor=educator,
            case=study,
            marks={"boxes": [{"label": "Nodule", "box": box, "view": second.pk}]},
        )
        # Moving views never moves a box to another image: each box names its own view.
        case_image_move(actor=educator, image=second, direction="up")
        assert FindingBox.objects.get(finding__case=study).image_id == second.pk
        with pytest.raises(ApplicationError, match="boxes are drawn on this view"):
            case_image_remove(actor=educator, image=second)
        case_image_remove(actor=educator, image=first)  # a view without boxes may go
        case_image_remove(actor=educator, image=third)
        assert list(study.images.values_list("pk", flat=True)) == [second.pk]

    def test_a_published_case_keeps_one_view(self, educator: Any) -> None:
        case = make_case(educator)  # published, one view
        with pytest.raises(ApplicationError, match="needs an image"):
            case_image_remove(actor=educator, image=case.images.get())
        case_boxes_set(actor=educator, case=case, marks={"boxes": []})
        case_unpublish(actor=educator, case=case)
        case_image_remove(actor=educator, image=case.images.get())
        assert not case.images.exists()

    def test_only_the_owner_changes_views(
        self, other_educator: Any, resident: Any, study: Any
    ) -> None:
        image = study.images.first()
        for actor in (other_educator, resident):
            with pytest.raises(ApplicationError):
                case_image_remove(actor=actor, image=image)
            with pytest.raises(ApplicationError):
                case_image_move(actor=actor, image=image, direction="down")
            with pytest.raises(ApplicationError):
                case_image_projection_set(actor=actor, image=image, projection="PA")
        assert study.images.count() == 3


class TestPages:
    def _urls(self, study: Any) -> list[str]:
        image = study.images.order_by("position").last()
        return [
            reverse("cases:case_view_add", args=[study.pk]),
            reverse("cases:case_view_projection", args=[study.pk, image.pk]),
            reverse("cases:case_view_move", args=[study.pk, image.pk, "up"]),
            reverse("cases:case_view_remove", args=[study.pk, image.pk]),
        ]

    def test_personas(self, personas: dict[str, Any], client_for: Any, study: Any) -> None:
        for url in self._urls(study):
            assert client_for(personas["resident"]).post(url).status_code == 403, url
            assert client_for(personas["outsider"]).post(url).status_code == 403, url
            assert client_for(None).post(url).status_code == 302, url
            assert client_for(personas["other_educator"]).post(url).status_code == 404, url
            assert client_for(personas["educator"]).get(url).status_code == 405, url
        assert study.images.count() == 3
        # A view of another case cannot be reached through this case's URL.
        other = make_case(personas["educator"], title="Other")
        url = reverse("cases:case_view_remove", args=[study.pk, other.images.get().pk])
        assert client_for(personas["educator"]).post(url).status_code == 404
        assert other.images.count() == 1

    def test_editor_lists_names_moves_and_removes_views(
        self, educator: Any, client_for: Any, study: Any
    ) -> None:
        client = client_for(educator)
        edit = reverse("cases:case_edit", args=[study.pk])
        page = client.get(edit).content.decode()
        assert "Views of this study" in page and page.count('class="view-item"') == 3
        first, second, third = (pk for pk, _ in _order(study))
        response = client.post(
            reverse("cases:case_view_projection", args=[study.pk, third]),
            {"projection": "Oblique"},
        )
        assert response.status_code == 302 and response["Location"] == edit
        client.post(reverse("cases:case_view_move", args=[study.pk, third, "up"]))
        assert _order(study) == [(first, "Frontal"), (third, "Oblique"), (second, "Lateral")]
        client.post(reverse("cases:case_view_remove", args=[study.pk, second]))
        assert [pk for pk, _ in _order(study)] == [first, third]
        refused = client.post(
            reverse("cases:case_view_projection", args=[study.pk, first]),
            {"projection": "sideways"},
            follow=True,
        )
        assert "Unknown view name" in refused.content.decode()

    def test_add_a_view_by_upload(
        self,
        educator: Any,
        client_for: Any,
        study: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        client = client_for(educator)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("cases:case_view_add", args=[study.pk]),
                {
                    "file": SimpleUploadedFile(
                        "lat.dcm", (DICOM_DIR / "RG1_J2KI.dcm").read_bytes()
                    ),
                    "projection": "Lateral",
                },
            )
        job = Job.objects.get()
        assert response["Location"] == reverse("cases:upload_status", args=[job.pk])
        job.refresh_from_db()
        assert job.result["status"] == "created" and job.result["view_added"], job.result
        assert job.result["case_id"] == study.pk
        last = study.images.order_by("position").last()
        assert (last.position, last.projection, last.kind) == (3, "Lateral", "dicom")
        status = client.get(response["Location"]).content.decode()
        assert "The view was added" in status
        # No file: a clear message, nothing added.
        response = client.post(reverse("cases:case_view_add", args=[study.pk]), follow=True)
        assert "Choose an image file" in response.content.decode()
        assert study.images.count() == 4


def test_players_receive_every_view_in_order(
    educator: Any, resident: Any, cohort: Any, client_for: Any
) -> None:
    case = make_case(educator)
    _add(educator, case, "Lateral", 150)
    case_set = make_set(educator, [case], cohort=cohort)
    client = client_for(resident)
    data = client.get(f"/api/v1/report/sets/{case_set.pk}/next/").json()
    views = data["case"]["images"]
    assert [v["projection"] for v in views] == ["", "Lateral"]
    assert [v["id"] for v in views] == list(
        case.images.order_by("position").values_list("pk", flat=True)
    )
    page = client.get(reverse("reporting:case", args=[case_set.pk, case.pk])).content.decode()
    assert page.count("<cxr-viewer") == 2 and "<cxr-views" in page
    assert 'view-label="Lateral"' in page and 'view-label="View 1"' in page
    # Localize: every view takes boxes, each viewer names its view; the group writes the input.
    page = client.get(reverse("localization:case", args=[case_set.pk, case.pk])).content.decode()
    group = page.split("<cxr-views")[1].split("</cxr-views>")[0]
    assert group.split(">")[0].count('input="marks-input"') == 1
    first, second = group.split("<cxr-viewer")[1:]
    ids = list(case.images.order_by("position").values_list("pk", flat=True))
    assert 'mode="annotate"' in first and f'view-id="{ids[0]}"' in first
    assert 'mode="annotate"' in second and f'view-id="{ids[1]}"' in second
    assert 'view-label="Lateral"' in second and "input=" not in second
