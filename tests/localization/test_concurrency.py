"""S06 / R01: double submits under real concurrency, against a live server on Postgres.

Twenty threads post the same idempotency key at once: exactly one attempt, every reply names it,
no 5xx. Twenty distinct keys at once: twenty attempts numbered 1..20 without a gap.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db import connection
from django.urls import reverse

from apps.localization.models import LocalizationAttempt
from apps.progress.models import ScoreEvent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 20


@pytest.fixture(autouse=True)
def _postgres_only() -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need Postgres (set DATABASE_URL); SQLite serialises them")
    yield
    # The live server's request threads close their connections just after replying; wait for
    # them, so dropping the test database at the end of the session finds nobody connected.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


@pytest.fixture
def session_for(live_server: Any) -> Iterator[Any]:
    """An httpx client logged in as a user, with its CSRF token. Clients are closed at teardown:
    an open keep-alive socket keeps a server thread, and its database connection, alive."""
    from django.test import Client

    opened: list[httpx.Client] = []

    def make(user: Any) -> tuple[httpx.Client, str]:
        django_client = Client()
        django_client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        client = httpx.Client(base_url=live_server.url, timeout=30)
        opened.append(client)
        client.cookies.set("sessionid", django_client.cookies["sessionid"].value)
        page = client.get(reverse("localization:index"))
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page.text).group(1)
        client.cookies.set("csrftoken", token)
        return client, token

    yield make
    for client in opened:
        client.close()


def run_together(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # reported by the test, per thread
            results[i] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_same_key_from_twenty_threads_makes_one_attempt(live_server, session_for, resident, world):
    client, token = session_for(resident)
    url = reverse(
        "api-localize-attempt-submit",
        kwargs={"set_id": world.practice.pk, "case_id": world.case.pk},
    )
    body = json.dumps({"marks": {"boxes": []}, "idempotency_key": str(uuid.uuid4())})
    headers = {"X-CSRFToken": token, "Content-Type": "application/json"}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server.url, cookies=client.cookies, timeout=30) as own:
            return own.post(url, content=body, headers=headers)

    replies = run_together(THREADS, post)
    assert all(isinstance(r, httpx.Response) for r in replies), replies
    assert sorted({r.status_code for r in replies}) in ([200, 201], [201]), [
        r.text for r in replies
    ]
    assert [r.status_code for r in replies].count(201) == 1
    assert len({r.json()["id"] for r in replies}) == 1
    assert LocalizationAttempt.objects.count() == 1 and ScoreEvent.objects.count() == 1


def test_same_form_posted_from_twenty_threads_makes_one_attempt(
    live_server, session_for, resident, world
):
    client, token = session_for(resident)
    page = client.get(
        reverse("localization:case", kwargs={"set_id": world.practice.pk, "case_id": world.case.pk})
    )
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page.text).group(1)
    url = reverse(
        "localization:submit", kwargs={"set_id": world.practice.pk, "case_id": world.case.pk}
    )
    form = {"marks": '{"boxes": []}', "idempotency_key": key, "csrfmiddlewaretoken": token}

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server.url, cookies=client.cookies, timeout=30) as own:
            return own.post(url, data=form, headers={"HX-Request": "true"})

    replies = run_together(THREADS, post)
    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in replies), replies
    assert len({r.headers["HX-Replace-Url"] for r in replies}) == 1
    assert LocalizationAttempt.objects.count() == 1


def test_distinct_keys_make_contiguous_attempt_numbers(live_server, session_for, resident, world):
    client, token = session_for(resident)
    url = reverse(
        "api-localize-attempt-submit",
        kwargs={"set_id": world.practice.pk, "case_id": world.case.pk},
    )
    headers = {"X-CSRFToken": token, "Content-Type": "application/json"}

    def post(_: int) -> httpx.Response:
        body = json.dumps({"marks": {"boxes": []}, "idempotency_key": str(uuid.uuid4())})
        with httpx.Client(base_url=live_server.url, cookies=client.cookies, timeout=30) as own:
            return own.post(url, content=body, headers=headers)

    replies = run_together(THREADS, post)
    assert [r.status_code for r in replies] == [201] * THREADS, [
        getattr(r, "text", r) for r in replies
    ]
    numbers = sorted(LocalizationAttempt.objects.values_list("attempt_no", flat=True))
    assert numbers == list(range(1, THREADS + 1))
    assert LocalizationAttempt.objects.filter(post_reveal=False).count() == 1
    assert ScoreEvent.objects.count() == THREADS
