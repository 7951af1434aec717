from __future__ import annotations

import warnings
from pathlib import PurePosixPath
from typing import Any

import pytest
from django.http import Http404

from apps.cases import selectors
from apps.cases.views.media import image_etag
from tests.cases.factories import CANARY_BOX, make_case, make_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(personas: dict[str, Any], cohort: Any) -> dict[str, Any]:
    educator = personas["educator"]
    published = make_case(educator, title="published")
    draft = make_case(educator, title="draft", published=False)
    assigned = make_set(educator, [draft, published], name="assigned", cohort=cohort)
    only_drafts = make_set(
        educator, [make_case(educator, published=False)], name="drafts", cohort=cohort
    )
    private = make_set(
        personas["other_educator"], [make_case(personas["other_educator"])], name="private"
    )
    shared = make_set(
        personas["other_educator"],
        [make_case(personas["other_educator"])],
        shared=True,
        name="shared",
    )
    return {
        "published": published,
        "draft": draft,
        "assigned": assigned,
        "drafts": only_drafts,
        "private": private,
        "shared": shared,
        **personas,
    }


def _names(user: Any) -> set[str]:
    return {s.name for s in selectors.case_sets_playable_by(user=user)}


def test_playable_sets_per_persona(world: dict[str, Any]) -> None:
    assert _names(world["resident"]) == {"assigned"}
    assert _names(world["other_resident"]) == set()
    assert _names(world["outsider"]) == set()
    assert _names(world["educator"]) == {"assigned", "shared"}
    assert _names(world["other_educator"]) == {"private", "shared"}
    assert _names(world["admin"]) == {"assigned", "private", "shared"}


def test_set_cases_only_published_in_order(world: dict[str, Any]) -> None:
    cases = selectors.case_set_cases(case_set=world["assigned"])
    assert [c.title for c in cases] == ["published"]


def test_case_for_player_404s(world: dict[str, Any]) -> None:
    resident = world["resident"]
    case = selectors.case_for_player(user=resident, case_id=world["published"].pk)
    assert case.pk == world["published"].pk
    assert "findings" not in getattr(case, "_prefetched_objects_cache", {})
    with pytest.raises(Http404):
        selectors.case_for_player(user=resident, case_id=world["draft"].pk)
    with pytest.raises(Http404):
        selectors.case_for_player(user=world["other_resident"], case_id=world["published"].pk)
    with pytest.raises(Http404):
        selectors.case_for_player(
            user=resident, case_id=world["published"].pk, case_set_id=world["shared"].pk
        )
    with pytest.raises(Http404):
        selectors.case_set_for_player(user=resident, case_set_id=world["private"].pk)


def test_case_in_set_for_player_one_query_and_404s(
    world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    resident, published, assigned = world["resident"], world["published"], world["assigned"]
    with django_assert_num_queries(1):  # the submit's hot path: set, case and visibility at once
        case_set, case = selectors.case_in_set_for_player(
            user=resident, case_set_id=assigned.pk, case_id=published.pk, with_images=False
        )
    assert (case_set.pk, case.pk) == (assigned.pk, published.pk)
    assert "findings" not in getattr(case, "_prefetched_objects_cache", {})
    _, with_images = selectors.case_in_set_for_player(
        user=resident, case_set_id=assigned.pk, case_id=published.pk
    )
    assert "images" in with_images._prefetched_objects_cache
    refused = [
        (resident, assigned.pk, world["draft"].pk),  # a draft in a playable set
        (world["other_resident"], assigned.pk, published.pk),  # a set not assigned to them
        (resident, world["shared"].pk, published.pk),  # a case not in that set
        (resident, world["private"].pk, world["private"].items.get().case_id),
    ]
    for user, set_id, case_id in refused:
        with pytest.raises(Http404):
            selectors.case_in_set_for_player(user=user, case_set_id=set_id, case_id=case_id)


def test_image_for_viewer(world: dict[str, Any]) -> None:
    image = world["published"].images.get()
    assert selectors.image_for_viewer(user=world["resident"], image_id=image.pk) == image
    draft_image = world["draft"].images.get()
    with pytest.raises(Http404):
        selectors.image_for_viewer(user=world["resident"], image_id=draft_image.pk)
    assert (
        selectors.image_for_viewer(user=world["educator"], image_id=draft_image.pk) == draft_image
    )
    with pytest.raises(Http404):
        selectors.image_for_viewer(user=world["other_educator"], image_id=draft_image.pk)


def test_answers_and_reference(world: dict[str, Any]) -> None:
    answers = selectors.case_answers(case=world["published"])
    assert answers.findings[0].regions == [[[CANARY_BOX, 0.2, 0.4, 0.5]]]
    assert answers.findings[0].id == world["published"].findings.get().pk
    assert answers.report is not None
    assert selectors.case_answers(case=world["published"], with_report=False).report is None
    reference = selectors.reference_for_scoring(world["published"], 0.5)
    finding_id = answers.findings[0].id
    # The box lies on the case's first (only) view: each region names its view.
    view = world["published"].images.get().pk
    assert answers.findings[0].region_views == [view]
    assert reference == {
        "findings": [
            {
                "id": finding_id,
                "label": "Nodule",
                "localizable": True,
                "regions": [[[CANARY_BOX, 0.2, 0.4, 0.5]]],
                "views": [view],
            }
        ],
        "iou_threshold": 0.5,
    }
    from ml.boxes import parse_reference, score_localize

    assert parse_reference(reference).regions
    # The scorer hands the Finding key back: nothing has to guess which finding a row is about.
    assert score_localize(reference, {})["regions"][0]["finding_id"] == finding_id


@pytest.mark.parametrize(
    ("persona", "variant", "status"),
    [
        ("resident", "display", 200),
        ("resident", "pixels16", 404),  # an 8-bit source has no 16-bit derivative
        ("resident", "original", 404),
        ("other_resident", "display", 404),
        ("educator", "original", 200),
        ("other_educator", "original", 404),
        ("admin", "original", 200),
        ("resident", "secret", 404),
    ],
)
def test_image_view(
    world: dict[str, Any], client_for: Any, persona: str, variant: str, status: int
) -> None:
    from django.urls import reverse

    image = world["published"].images.get()
    response = client_for(world[persona]).get(reverse("cases:image", args=[image.pk, variant]))
    assert response.status_code == status
    if status == 200:
        stored = getattr(image, variant)
        # The player's bounded variants are one body; a manager's original is streamed.
        assert response.streaming == (variant == "original")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        with stored.storage.open(stored.name, "rb") as handle:
            assert body == handle.read()
        assert body.startswith(b"\x89PNG")
        assert response["Content-Type"] == "image/png"
        assert response["ETag"] == image_etag(stored.name, stored.size)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, max-age=3600"
        assert "sandbox" in response["Content-Security-Policy"]
        if variant == "original":
            assert (
                response["Content-Disposition"]
                == f'attachment; filename="case-image-{image.pk}.png"'
            )
        else:
            assert "Content-Disposition" not in response


def _image_url(image: Any, variant: str) -> str:
    from django.urls import reverse

    return reverse("cases:image", args=[image.pk, variant])


@pytest.mark.parametrize(
    ("persona", "variant"), [("resident", "display"), ("educator", "original")]
)
def test_image_view_answers_a_matching_etag_with_304(
    world: dict[str, Any], client_for: Any, persona: str, variant: str
) -> None:
    image = world["published"].images.get()
    client = client_for(world[persona])
    etag = client.get(_image_url(image, variant))["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    stored = getattr(image, variant)
    # Nothing about storage (nor, through it, the upload) reaches the header.
    assert PurePosixPath(stored.name).stem not in etag

    response = client.get(_image_url(image, variant), headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, max-age=3600"
    assert "sandbox" in response["Content-Security-Policy"]
    stale = client.get(_image_url(image, variant), headers={"if-none-match": '"something-else"'})
    assert stale.status_code == 200 and stale["ETag"] == etag


@pytest.mark.parametrize(
    ("persona", "variant"),
    [("other_resident", "display"), ("resident", "original"), ("other_educator", "original")],
)
def test_image_view_refuses_a_matching_etag_like_any_request(
    world: dict[str, Any], client_for: Any, persona: str, variant: str
) -> None:
    """Knowing an image's ETag opens nothing: the permission check comes before the 304."""
    image = world["published"].images.get()
    allowed = world["resident"] if variant == "display" else world["educator"]
    etag = client_for(allowed).get(_image_url(image, variant))["ETag"]
    response = client_for(world[persona]).get(
        _image_url(image, variant), headers={"if-none-match": etag}
    )
    assert response.status_code == 404
    assert "ETag" not in response


def _noise_png(side: int = 600) -> bytes:
    """An image whose PNG does not compress (about 360 KB): several of the server's sends."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.effect_noise((side, side), 64).convert("L").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)  # the ASGI handler runs the request on a pool thread
@pytest.mark.parametrize(
    ("persona", "variant"), [("resident", "display"), ("educator", "original")]
)
def test_images_through_the_asgi_handler_go_out_in_its_chunk_size(
    world: dict[str, Any], client_for: Any, persona: str, variant: str
) -> None:
    """Through the handler uvicorn runs (radgame/asgi_http.py): the display image is one complete
    body and the original streams in 64 KiB reads. A FileResponse of the display image went out
    in 4 KiB blocks, a send each, and under Django's own handler with a "synchronous iterators"
    warning."""
    from django.conf import settings

    from radgame.asgi_http import ThreadedASGIHandler
    from tests.cases.factories import add_image
    from tests.radgame.test_asgi_http import asgi_request

    image = add_image(world["educator"], world["published"], _noise_png())
    stored = getattr(image, variant)
    with stored.storage.open(stored.name, "rb") as handle:
        expected = handle.read()
    assert len(expected) > 4 * ThreadedASGIHandler.chunk_size
    session = client_for(world[persona]).cookies[settings.SESSION_COOKIE_NAME].value
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, headers, body, messages = asgi_request(
            ThreadedASGIHandler(),
            _image_url(image, variant),
            headers=[(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())],
        )
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]
    assert status == 200 and body == expected
    assert headers[b"etag"] == [image_etag(stored.name, len(expected)).encode()]
    sizes = [len(message.get("body", b"")) for message in messages if message.get("body")]
    assert sizes[:-1] == [ThreadedASGIHandler.chunk_size] * (len(sizes) - 1)


def test_image_view_anonymous_redirects(world: dict[str, Any], client_for: Any) -> None:
    from django.urls import reverse

    image = world["published"].images.get()
    assert (
        client_for(None).get(reverse("cases:image", args=[image.pk, "display"])).status_code == 302
    )


def test_pixels16_served_for_high_depth_images(world: dict[str, Any], client_for: Any) -> None:
    from django.urls import reverse

    from tests.cases.factories import add_image, png_bytes

    case = world["published"]
    image = add_image(world["educator"], case, png_bytes(mode="I;16", value=3000))
    assert image.pixels16
    response = client_for(world["resident"]).get(
        reverse("cases:image", args=[image.pk, "pixels16"])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_case_in_set_compiled_sql_matches_the_orm(world: dict[str, Any], cohort: Any) -> None:
    """The submit's read runs SQL compiled once per process: for every player and every kind of
    set (visible, another cohort's, private, shared, drafts, an assessment) it finds exactly the
    set and case the ORM's own queryset finds, column for column."""
    from django.forms.models import model_to_dict

    from apps.cases.models import CaseSet, CaseSetItem
    from apps.cases.selectors.play import _may_play

    assessment = make_set(world["educator"], [make_case(world["educator"])], cohort=cohort)
    CaseSet.objects.filter(pk=assessment.pk).update(mode="assessment")
    sets = [world[n] for n in ("assigned", "drafts", "private", "shared")] + [assessment]
    pairs = [(s.pk, item.case_id) for s in sets for item in s.items.all()]
    pairs.append((world["shared"].pk, world["published"].pk))  # a case not in that set
    users = [world[n] for n in ("resident", "other_resident", "educator", "other_educator")]
    users.append(world["admin"])
    found = 0
    for user in users:
        for set_id, case_id in pairs:
            visible = _may_play(user, "case_set__")
            assert visible is not None
            orm = (
                CaseSetItem.objects.filter(
                    visible,
                    case_set_id=set_id,
                    case_id=case_id,
                    case__status="published",
                )
                .filter(selectors.localize_truth("case__"))
                .select_related("case", "case_set")
                .first()
            )
            for with_images in (True, False):
                try:
                    case_set, case = selectors.case_in_set_for_player(
                        user=user, case_set_id=set_id, case_id=case_id, with_images=with_images
                    )
                except Http404:
                    assert orm is None, (user, set_id, case_id)
                    continue
                assert orm is not None, (user, set_id, case_id)
                assert model_to_dict(case) == model_to_dict(orm.case)
                assert model_to_dict(case_set) == model_to_dict(orm.case_set)
                assert case_set.mode == orm.case_set.mode
                found += 1
    assert 0 < found < len(users) * len(pairs) * 2  # some visible, some refused


def test_case_in_set_for_submit_reads_the_truth_with_the_check(
    world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    from apps.cases.models import Finding, FindingBox

    resident, published, assigned = world["resident"], world["published"], world["assigned"]
    # A second region read by two readers, on the case's view, and a finding without a box.
    first = Finding.objects.filter(case=published).order_by("position", "pk").first()
    view = published.images.first()
    for reader, box in (("b", (0.52, 0.48, 0.71, 0.88)), ("a", (0.5, 0.5, 0.7, 0.9))):
        FindingBox.objects.create(
            finding=first, image=view, region=1, reader=reader,
            x1=box[0], y1=box[1], x2=box[2], y2=box[3],
        )  # fmt: skip
    Finding.objects.create(case=published, label="Emphysema", localizable=False, position=9)
    with django_assert_num_queries(1):  # the Localize submit's read: check, set, case and truth
        case_set, case, answers = selectors.case_in_set_for_submit(
            user=resident, case_set_id=assigned.pk, case_id=published.pk
        )
    assert (case_set.pk, case.pk) == (assigned.pk, published.pk)
    expected = selectors.case_answers(
        case=published, iou_threshold=assigned.iou_threshold, with_report=False
    )
    assert answers == expected and len(answers.findings) >= 2
    assert any(len(finding.regions) == 2 for finding in answers.findings)
    refused = [
        (resident, assigned.pk, world["draft"].pk),
        (world["other_resident"], assigned.pk, published.pk),
        (resident, world["shared"].pk, published.pk),
    ]
    for user, set_id, case_id in refused:
        with pytest.raises(Http404):
            selectors.case_in_set_for_submit(user=user, case_set_id=set_id, case_id=case_id)


def test_case_in_set_for_submit_of_a_normal_case_has_no_findings(
    world: dict[str, Any], personas: dict[str, Any], cohort: Any
) -> None:
    educator = personas["educator"]
    normal = make_case(educator, title="normal", with_truth=False, published=False)
    normal.is_normal = True
    normal.save(update_fields=["is_normal"])
    from apps.cases.services import case_publish

    case_publish(actor=educator, case=normal)
    case_set = make_set(educator, [normal], name="normals", cohort=cohort)
    _, case, answers = selectors.case_in_set_for_submit(
        user=world["resident"], case_set_id=case_set.pk, case_id=normal.pk
    )
    assert case.pk == normal.pk and answers.is_normal and answers.findings == []
