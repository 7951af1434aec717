"""Site-wide guarantees, checked over every URL pattern so a new route cannot ship uncovered."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Pages anyone may open without logging in.
PUBLIC = {
    "/about/",
    "/healthz/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/done/",
}
PUBLIC_PREFIXES = ("/accounts/password/reset/", "/cohorts/1/invite/", "/static/")


def _fill(pattern: str) -> str:
    import re

    def value(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        return {"id": "1", "uuid": str(uuid.UUID(int=1)), "slug": "x", "path": "x"}.get(
            converter, "x"
        )

    return re.sub(r"<(?:(\w+):)?\w+>", value, pattern)


def iter_paths(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                yield "/admin/"
                continue
            yield from iter_paths(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            full = prefix + route
            if "(?P" in full or full.startswith("^"):
                continue  # regex routes (format suffixes) are covered by their plain twin
            yield "/" + _fill(full)


ALL_PATHS = sorted(set(iter_paths()))


def test_the_route_inventory_is_not_empty() -> None:
    assert len(ALL_PATHS) > 20


@pytest.mark.parametrize("path", ALL_PATHS)
def test_anonymous_is_refused_everywhere_but_public_pages(client: Any, path: str) -> None:
    response = client.get(path)
    if path in PUBLIC or path.startswith(PUBLIC_PREFIXES):
        assert response.status_code < 500
        return
    assert response.status_code in {302, 401, 403, 404, 405}, (
        f"{path} answered {response.status_code}"
    )
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"] or "/admin/login/" in response["Location"]


@pytest.mark.parametrize("path", ALL_PATHS)
def test_no_route_errors_for_an_admin_with_unknown_ids(
    client_for: Any, admin_user: Any, path: str
) -> None:
    response = client_for(admin_user).get(path)
    assert response.status_code < 500, f"{path} answered {response.status_code}"


def test_html_pages_carry_csp_and_security_headers(client_for: Any, resident: Any) -> None:
    for response in (client_for(None).get("/accounts/login/"), client_for(resident).get("/")):
        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "object-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script(client_for: Any, resident: Any) -> None:
    body = client_for(resident).get("/").content.decode()
    import re

    for tag in re.findall(r"<script[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_every_page_shows_the_notice_and_attribution(client_for: Any, resident: Any) -> None:
    for response in (client_for(None).get("/about/"), client_for(resident).get("/")):
        text = response.content.decode()
        assert "Educational use only, not for diagnosis" in text
        assert "NIH Clinical Center" in text


def test_api_schema_and_docs_need_login(client_for: Any, resident: Any) -> None:
    assert client_for(None).get("/api/schema/").status_code == 403
    schema = client_for(resident).get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/cohorts/" in schema.content
    assert client_for(resident).get("/api/docs/").status_code == 200


def _iter_converters(
    resolver: URLResolver | None = None, prefix: str = ""
) -> Iterator[tuple[str, str, Any]]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        for name, converter in getattr(entry.pattern, "converters", {}).items():
            yield route, name, converter
        if isinstance(entry, URLResolver):
            yield from _iter_converters(entry, route)


def test_every_numeric_id_in_a_route_uses_the_id_converter() -> None:
    from django.urls.converters import IntConverter

    from apps.core.converters import IdConverter

    ids = [(route, name) for route, name, c in _iter_converters() if isinstance(c, IdConverter)]
    ints = [(route, name) for route, name, c in _iter_converters() if isinstance(c, IntConverter)]
    assert len(ids) > 20
    assert ints == [], "use <id:...> so ids past 2**63-1 are a 404, not an OverflowError"


def _id_paths(value: str) -> list[str]:
    """Every route with a numeric id, each id replaced by ``value``."""
    from apps.core.converters import IdConverter

    paths = set()
    for route, _, converter in _iter_converters():
        if isinstance(converter, IdConverter) and not route.startswith("admin/"):
            filled = re.sub(
                r"<(?:(\w+):)?\w+>",
                lambda m: value if m.group(1) == "id" else _fill(m.group(0)),
                route,
            )
            paths.add("/" + filled)
    return sorted(paths)


@pytest.mark.parametrize("huge", [str(2**63), "99999999999999999999", "0"])
def test_ids_out_of_range_are_a_404_not_a_500(client_for: Any, admin_user: Any, huge: str) -> None:
    client = client_for(admin_user)
    paths = _id_paths(huge)
    assert "/localize/sets/" + huge + "/cases/" + huge + "/" in paths
    for path in paths:
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 404, f"{path} answered {response.status_code}"


def test_the_largest_id_still_resolves() -> None:
    from django.urls import resolve, reverse

    url = reverse("cohorts:detail", args=[2**63 - 1])
    assert resolve(url).kwargs == {"cohort_id": 2**63 - 1}
