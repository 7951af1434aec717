from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_and_logout(resident: Any) -> None:
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": "resident", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert b"Welcome" in home.content
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_logout_refuses_get(client_for: Any, resident: Any) -> None:
    assert client_for(resident).get(reverse("accounts:logout")).status_code == 405


def test_lockout_by_username_and_address_with_cool_off(
    settings: Any, resident: Any, make_user: Any
) -> None:
    make_user("colleague")
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "resident", "password": "wrong"})
    locked = client.post(reverse("accounts:login"), {"username": "resident", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed" in locked.content
    # A colleague behind the same hospital address is not locked out.
    colleague = Client(REMOTE_ADDR="10.1.1.1").post(
        reverse("accounts:login"), {"username": "colleague", "password": PASSWORD}
    )
    assert colleague.status_code == 302
    # A forged X-Forwarded-For does not reset the counter (no proxy is trusted by default).
    forged = Client(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="203.0.113.9").post(
        reverse("accounts:login"), {"username": "resident", "password": PASSWORD}
    )
    assert forged.status_code == 429


def test_lock_lifts_after_cool_off(settings: Any, resident: Any) -> None:
    import time_machine
    from django.utils import timezone

    client = Client(REMOTE_ADDR="10.2.2.2")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "resident", "password": "wrong"})
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timezone.timedelta(seconds=5)
    with time_machine.travel(later):
        response = client.post(
            reverse("accounts:login"), {"username": "resident", "password": PASSWORD}
        )
    assert response.status_code == 302


def test_password_reset_sends_a_one_time_link(resident: Any) -> None:
    resident.email = "resident@example.org"
    resident.save()
    client = Client()
    response = client.post(reverse("accounts:password_reset"), {"email": "resident@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "a-new-long-password-1", "new_password2": "a-new-long-password-1"},
    )
    assert done.status_code == 302
    relogin = Client().post(
        reverse("accounts:login"), {"username": "resident", "password": "a-new-long-password-1"}
    )
    assert relogin.status_code == 302
    # The link works once.
    assert b"invalid" in client.get(path, follow=True).content


def test_profile_update(client_for: Any, resident: Any) -> None:
    client = client_for(resident)
    assert client.get(reverse("accounts:profile")).status_code == 200
    response = client.post(
        reverse("accounts:profile"), {"display_name": "Dr Res", "email": "r@example.org"}
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.display_name == "Dr Res"


def test_api_me(client_for: Any, educator: Any) -> None:
    body = client_for(educator).get(reverse("api-me")).json()
    assert body["role"] == "educator"
    assert client_for(None).get(reverse("api-me")).status_code == 403


def test_basic_auth_is_not_a_login_path(resident: Any) -> None:
    import base64

    token = base64.b64encode(f"resident:{PASSWORD}".encode()).decode()
    response = Client().get(reverse("api-me"), HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 403


def test_the_profile_sets_the_time_zone_and_refuses_unknown_ones(client_for, resident) -> None:
    client = client_for(resident)
    url = reverse("accounts:profile")
    data = {"display_name": "R", "email": "r@example.org", "time_zone": "Asia/Tokyo"}
    assert client.post(url, data).status_code == 302
    resident.refresh_from_db()
    assert resident.time_zone == "Asia/Tokyo" and str(resident.zone) == "Asia/Tokyo"
    refused = client.post(url, {**data, "time_zone": "Mars/Olympus"})
    assert refused.status_code == 200
    resident.refresh_from_db()
    assert resident.time_zone == "Asia/Tokyo"
