"""Pre-test / post-test: the paired interval by hand, linking two assessments, the results."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.analytics.models import PrePost
from apps.analytics.prepost import paired_interval
from tests.analytics.conftest import localize
from tests.localization.conftest import NODULE_BOX, build_case, build_set, truth


def test_paired_interval_by_hand() -> None:
    # d = 0.1, 0.2, 0.3, 0.4: mean 0.25; s = sqrt(0.05 / 3) = 0.129099; t(0.975, 3) = 3.182446;
    # half width = 3.182446 * 0.129099 / 2 = 0.205426.
    ci = paired_interval([0.1, 0.2, 0.3, 0.4])
    assert ci.n == 4 and ci.mean == pytest.approx(0.25)
    assert ci.low == pytest.approx(0.044574, abs=1e-6)
    assert ci.high == pytest.approx(0.455426, abs=1e-6)


def test_paired_interval_needs_two_pairs() -> None:
    one = paired_interval([0.3])
    assert (one.n, one.mean, one.low, one.high) == (1, 0.3, None, None)
    none = paired_interval([])
    assert (none.n, none.mean) == (0, None)


@pytest.fixture
def tests_pair(educator: Any, cohort: Any, resident: Any, make_user: Any) -> tuple[Any, Any]:
    from apps.cohorts.services import cohort_join_by_code

    second = make_user("resident2")
    cohort_join_by_code(user=second, code=cohort.join_code)
    a1 = build_case(educator, title="Pre one", findings=[truth("Nodule", [NODULE_BOX])])
    a2 = build_case(educator, title="Pre two", is_normal=True)
    b1 = build_case(educator, title="Post one", findings=[truth("Nodule", [NODULE_BOX])])
    b2 = build_case(educator, title="Post two", is_normal=True)
    pre = build_set(educator, cohort, [a1, a2], name="Pre-test", mode="assessment")
    post = build_set(educator, cohort, [b1, b2], name="Post-test", mode="assessment")
    hit = [{"label": "Nodule", "box": NODULE_BOX}]
    localize(resident, a1, pre, [])  # missed: 0
    localize(resident, b1, post, hit)  # found: 1
    localize(second, a1, pre, hit)  # 1
    localize(second, b1, post, hit)  # 1
    return pre, post


@pytest.mark.django_db
def test_link_and_compare(client_for: Any, educator: Any, cohort: Any, tests_pair: Any) -> None:
    pre, post = tests_pair
    client = client_for(educator)
    dashboard = client.get(reverse("analytics:cohort", args=[cohort.pk])).content.decode()
    assert "Link as pre and post" in dashboard
    response = client.post(
        reverse("analytics:prepost_create", args=[cohort.pk]), {"pre": pre.pk, "post": post.pk}
    )
    pair = PrePost.objects.get(cohort=cohort)
    assert response["Location"] == reverse("analytics:prepost", args=[cohort.pk, pair.pk])
    text = client.get(response["Location"]).content.decode()
    # Changes: +1 and 0; mean 0.5, s = 0.707107, t(0.975, 1) = 12.706205, half = 6.353102.
    assert (
        '<tr data-resident="resident"><td>resident</td>\n        <td>0%</td><td>100%</td><td>+100.0 pts</td>'
        in text
    )
    assert "<td>2</td><td>+50.0 pts</td>" in text
    assert "-585.3 pts to +685.3 pts" in text
    assert (
        '<tr data-finding="Nodule"><td>Nodule</td><td>50%</td><td>100%</td><td>+50.0 pts</td>'
        in text
    )


@pytest.mark.django_db
def test_only_two_of_the_cohorts_assessments_link(
    client_for: Any, educator: Any, other_educator: Any, cohort: Any, tests_pair: Any
) -> None:
    pre, post = tests_pair
    url = reverse("analytics:prepost_create", args=[cohort.pk])
    client = client_for(educator)
    client.post(url, {"pre": pre.pk, "post": pre.pk})
    practice = build_set(educator, cohort, [], name="Practice")
    client.post(url, {"pre": pre.pk, "post": practice.pk})
    assert not PrePost.objects.exists()
    assert client_for(other_educator).post(url, {"pre": pre.pk, "post": post.pk}).status_code == 404
    assert not PrePost.objects.exists()


@pytest.mark.django_db
def test_results_page_is_bounded_and_isolated(
    client_for: Any,
    educator: Any,
    other_educator: Any,
    cohort: Any,
    tests_pair: Any,
    django_assert_max_num_queries: Any,
) -> None:
    pre, post = tests_pair
    pair = PrePost.objects.create(cohort=cohort, pre=pre, post=post, created_by=educator)
    url = reverse("analytics:prepost", args=[cohort.pk, pair.pk])
    client = client_for(educator)
    client.get(url)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    assert client_for(other_educator).get(url).status_code == 404


@pytest.mark.django_db
def test_delete_asks_first_and_only_the_cohorts_educator_may(
    client_for: Any,
    educator: Any,
    other_educator: Any,
    resident: Any,
    cohort: Any,
    tests_pair: Any,
) -> None:
    from apps.localization.models import LocalizationAttempt

    pre, post = tests_pair
    pair = PrePost.objects.create(cohort=cohort, pre=pre, post=post, created_by=educator)
    url = reverse("analytics:prepost_delete", args=[cohort.pk, pair.pk])
    page = client_for(educator).get(reverse("analytics:prepost", args=[cohort.pk, pair.pk]))
    assert url in page.content.decode()
    confirm = client_for(educator).get(url)
    assert confirm.status_code == 200 and "Delete the pair" in confirm.content.decode()
    assert PrePost.objects.filter(pk=pair.pk).exists()  # asking deletes nothing
    assert client_for(other_educator).post(url).status_code == 404
    assert client_for(other_educator).get(url).status_code == 404
    assert client_for(resident).post(url).status_code == 403
    assert PrePost.objects.filter(pk=pair.pk).exists()
    attempts = LocalizationAttempt.objects.count()
    response = client_for(educator).post(url)
    assert response["Location"] == reverse("analytics:cohort", args=[cohort.pk])
    assert not PrePost.objects.filter(pk=pair.pk).exists()
    assert LocalizationAttempt.objects.count() == attempts  # the sets' attempts are kept
    assert client_for(educator).post(url).status_code == 404


@pytest.mark.django_db
def test_delete_needs_the_csrf_token(educator: Any, cohort: Any, tests_pair: Any) -> None:
    from django.test import Client

    pre, post = tests_pair
    pair = PrePost.objects.create(cohort=cohort, pre=pre, post=post, created_by=educator)
    client = Client(enforce_csrf_checks=True)
    client.force_login(educator, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("analytics:prepost_delete", args=[cohort.pk, pair.pk])
    assert client.post(url).status_code == 403
    assert PrePost.objects.filter(pk=pair.pk).exists()
