"""``selectors.image_for_viewer``: the image GET's permission check, one compiled query for
everyone who may see the image and a 404 (never a 403) for everyone else."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from apps.cases import selectors
from tests.cases.factories import make_case, make_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def images(personas: dict[str, Any], cohort: Any) -> dict[str, Any]:
    educator, other = personas["educator"], personas["other_educator"]
    assigned = make_case(educator, title="assigned")
    draft = make_case(educator, title="draft", published=False)
    make_set(educator, [assigned, draft], name="assigned", cohort=cohort)
    shared = make_case(other, title="shared")
    shared_draft = make_case(other, title="shared draft", published=False)
    make_set(other, [shared, shared_draft], shared=True, name="shared")
    private = make_case(other, title="private")
    make_set(other, [private], name="private")
    loose = make_case(other, title="in no set", published=False)
    return {
        name: case.images.get()
        for name, case in {
            "assigned": assigned,
            "draft": draft,
            "shared": shared,
            "shared_draft": shared_draft,
            "private": private,
            "loose": loose,
        }.items()
    }


@pytest.mark.parametrize(
    ("persona", "image"),
    [
        ("resident", "assigned"),  # a published case in a set assigned to their cohort
        ("educator", "draft"),  # their own case, a draft
        ("educator", "assigned"),
        ("educator", "shared"),  # a published case in another educator's shared set
        ("other_educator", "private"),  # their own set, not shared, not assigned
        ("admin", "loose"),  # a draft in no set: admins manage every case
        ("admin", "shared_draft"),
    ],
)
def test_one_query_for_those_who_may_see(
    personas: dict[str, Any],
    images: dict[str, Any],
    persona: str,
    image: str,
    django_assert_num_queries: Any,
) -> None:
    expected = images[image]
    with django_assert_num_queries(1):
        found = selectors.image_for_viewer(user=personas[persona], image_id=expected.pk)
        # What the view serves is on the image itself: no query for it.
        names = (found.display.name, found.pixels16.name, found.original.name)
    assert found == expected
    assert names == (expected.display.name, expected.pixels16.name, expected.original.name)


@pytest.mark.parametrize(
    ("persona", "image"),
    [
        ("other_resident", "assigned"),  # another cohort's set
        ("outsider", "assigned"),  # a resident in no cohort
        ("resident", "draft"),  # a draft in their assigned set
        ("resident", "shared"),  # shared sets are for educators
        ("educator", "shared_draft"),  # a draft in a shared set is its owner's alone
        ("educator", "private"),  # another educator's unshared set
        ("educator", "loose"),
    ],
)
def test_404_for_those_who_may_not(
    personas: dict[str, Any], images: dict[str, Any], persona: str, image: str
) -> None:
    with pytest.raises(Http404):
        selectors.image_for_viewer(user=personas[persona], image_id=images[image].pk)


def test_404_for_non_players_and_missing_images(
    personas: dict[str, Any], images: dict[str, Any], django_assert_num_queries: Any
) -> None:
    inactive = personas["resident"]
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    for user in (AnonymousUser(), inactive):
        with django_assert_num_queries(0), pytest.raises(Http404):
            selectors.image_for_viewer(user=user, image_id=images["assigned"].pk)
    missing = max(image.pk for image in images.values()) + 1
    with pytest.raises(Http404):
        selectors.image_for_viewer(user=personas["admin"], image_id=missing)


def test_the_compiled_rule_takes_each_user(
    personas: dict[str, Any], images: dict[str, Any]
) -> None:
    """Two users of one role share the compiled SQL, never each other's answer."""
    image_id = images["assigned"].pk
    assert selectors.image_for_viewer(user=personas["resident"], image_id=image_id)
    with pytest.raises(Http404):
        selectors.image_for_viewer(user=personas["other_resident"], image_id=image_id)
    private_id = images["private"].pk
    assert selectors.image_for_viewer(user=personas["other_educator"], image_id=private_id)
    with pytest.raises(Http404):
        selectors.image_for_viewer(user=personas["educator"], image_id=private_id)
