"""The authorization matrix: every URL pattern and websocket route against every persona.

Each route has one row: the request that exercises it (with ids of real objects belonging to the
educator's cohort and to the resident) and the personas allowed. Every other persona must be
refused: anonymous visitors are sent to log in (or get 401/403 from the API), everyone else gets
403 or 404. Because the ids are real, the other educator and the other resident are the
object-level checks: same role, someone else's object. A route added without a row fails
``test_every_route_has_a_row``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anon",
    "resident",
    "other_resident",
    "outsider",
    "educator",
    "other_educator",
    "admin",
)
ALL = frozenset(PERSONAS)
USERS = ALL - {"anon"}
EDUCATORS = frozenset({"educator", "other_educator", "admin"})
OWNER = frozenset({"educator", "admin"})  # the cohort's owner, the cases' and set's author
PLAYERS = frozenset({"resident", "educator", "admin"})  # the set is assigned to their cohort
ATTEMPT_OWNER = frozenset({"resident"})
# The resident, and whoever runs the resident's cohort (the educator's drill-down, read only).
ATTEMPT_VIEWERS = frozenset({"resident", "educator", "admin"})
ADMIN = frozenset({"admin"})
JOB_OWNER = frozenset({"resident", "admin"})


@dataclass
class World:
    cohort: Any
    resident: Any
    invitation: Any
    case: Any
    image: Any
    case_set: Any
    ingest_job: Any
    import_job: Any
    resident_job: Any
    localize_attempt: Any
    report_attempt: Any
    assessment: Any
    api_token: Any
    prepost: Any


@dataclass(frozen=True)
class Row:
    method: str
    url: Callable[[World], str]
    allowed: frozenset[str]
    data: dict[str, Callable[[World], Any]] | None = None


def _r(name: str, *args: Callable[[World], Any]) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[arg(w) for arg in args])


cohort = lambda w: w.cohort.pk  # noqa: E731
case = lambda w: w.case.pk  # noqa: E731
image = lambda w: w.image.pk  # noqa: E731
case_set = lambda w: w.case_set.pk  # noqa: E731
assessment = lambda w: w.assessment.pk  # noqa: E731
lattempt = lambda w: w.localize_attempt.pk  # noqa: E731
rattempt = lambda w: w.report_attempt.pk  # noqa: E731


def const(value: Any) -> Callable[[World], Any]:
    return lambda w: value


GET, POST, PUT = "GET", "POST", "PUT"

MATRIX: dict[str, Row] = {
    "home": Row(GET, _r("home"), USERS),
    "about": Row(GET, _r("about"), ALL),
    "healthz": Row(GET, _r("healthz"), ALL),
    "admin": Row(GET, const("/admin/"), frozenset({"admin"})),
    # accounts
    "accounts:login": Row(GET, _r("accounts:login"), ALL),
    # Logging out sends everyone, logged in or not, to the login page: nothing to authorize.
    "accounts:logout": Row(POST, _r("accounts:logout"), frozenset()),
    "accounts:profile": Row(GET, _r("accounts:profile"), USERS),
    "accounts:password_change": Row(GET, _r("accounts:password_change"), USERS),
    "accounts:password_change_done": Row(GET, _r("accounts:password_change_done"), USERS),
    "accounts:password_reset": Row(GET, _r("accounts:password_reset"), ALL),
    "accounts:password_reset_done": Row(GET, _r("accounts:password_reset_done"), ALL),
    "accounts:password_reset_confirm": Row(
        GET, _r("accounts:password_reset_confirm", const("MQ"), const("set-password")), ALL
    ),
    "accounts:password_reset_complete": Row(GET, _r("accounts:password_reset_complete"), ALL),
    # cohorts
    "cohorts:list": Row(GET, _r("cohorts:list"), EDUCATORS),
    "cohorts:join": Row(GET, _r("cohorts:join"), USERS),
    "cohorts:detail": Row(GET, _r("cohorts:detail", cohort), OWNER),
    "cohorts:invitation_create": Row(POST, _r("cohorts:invitation_create", cohort), OWNER),
    "cohorts:educator_add": Row(POST, _r("cohorts:educator_add", cohort), OWNER),
    "cohorts:join_code_rotate": Row(POST, _r("cohorts:join_code_rotate", cohort), OWNER),
    "cohorts:member_remove": Row(
        POST, _r("cohorts:member_remove", cohort, lambda w: w.resident.pk), OWNER
    ),
    "cohorts:invitation_revoke": Row(
        POST, _r("cohorts:invitation_revoke", lambda w: w.invitation.pk), OWNER
    ),
    "cohorts:invitation_open": Row(
        GET, _r("cohorts:invitation_open", cohort, lambda w: w.invitation.token), ALL
    ),
    # case library
    "cases:library": Row(GET, _r("cases:library"), EDUCATORS),
    "cases:case_new": Row(GET, _r("cases:case_new"), EDUCATORS),
    "cases:upload_status": Row(GET, _r("cases:upload_status", lambda w: w.ingest_job.pk), OWNER),
    "cases:case_edit": Row(GET, _r("cases:case_edit", case), OWNER),
    "cases:case_preview": Row(GET, _r("cases:case_preview", case), OWNER),
    "cases:case_publish": Row(POST, _r("cases:case_publish", case), OWNER),
    "cases:case_view_add": Row(POST, _r("cases:case_view_add", case), OWNER),
    "cases:case_view_projection": Row(POST, _r("cases:case_view_projection", case, image), OWNER),
    "cases:case_view_move": Row(POST, _r("cases:case_view_move", case, image, const("up")), OWNER),
    "cases:case_view_remove": Row(POST, _r("cases:case_view_remove", case, image), OWNER),
    "cases:case_view_phi_checked": Row(
        POST,
        _r("cases:case_view_phi_checked", case, image),
        OWNER,
        data={"confirm": const("yes")},
    ),
    "cases:set_list": Row(GET, _r("cases:set_list"), EDUCATORS),
    "cases:set_detail": Row(GET, _r("cases:set_detail", case_set), OWNER),
    "cases:set_case_add": Row(
        POST, _r("cases:set_case_add", case_set), OWNER, {"case_id": lambda w: w.case.pk}
    ),
    "cases:set_case_remove": Row(POST, _r("cases:set_case_remove", case_set, case), OWNER),
    "cases:set_case_move": Row(POST, _r("cases:set_case_move", case_set, case, const("up")), OWNER),
    "cases:set_assign": Row(POST, _r("cases:set_assign", case_set), OWNER),
    "cases:set_unassign": Row(POST, _r("cases:set_unassign", case_set, cohort), OWNER),
    "cases:import": Row(GET, _r("cases:import"), EDUCATORS),
    "cases:import_status": Row(GET, _r("cases:import_status", lambda w: w.import_job.pk), OWNER),
    "cases:image": Row(GET, _r("cases:image", image, const("display")), PLAYERS),
    "cases:image original": Row(GET, _r("cases:image", image, const("original")), OWNER),
    # jobs
    "inference:status": Row(GET, _r("inference:status", lambda w: w.resident_job.pk), JOB_OWNER),
    # Localize
    "localization:index": Row(GET, _r("localization:index"), USERS),
    "localization:set_summary": Row(GET, _r("localization:set_summary", case_set), PLAYERS),
    "localization:play": Row(GET, _r("localization:play", case_set), PLAYERS),
    "localization:case": Row(GET, _r("localization:case", case_set, case), PLAYERS),
    "localization:submit": Row(POST, _r("localization:submit", case_set, case), PLAYERS),
    # A hint: whoever may play the case (the resident has answered it here, so theirs is a 400
    # with its reason, not a refusal of who they are).
    "localization:hint": Row(
        POST, _r("localization:hint", case_set, case), PLAYERS, {"number": const(1)}
    ),
    "localization:attempt": Row(GET, _r("localization:attempt", lattempt), ATTEMPT_VIEWERS),
    "localization:attempt_explanations": Row(
        GET, _r("localization:attempt_explanations", lattempt), ATTEMPT_VIEWERS
    ),
    # Report
    "reporting:index": Row(GET, _r("reporting:index"), USERS),
    "reporting:play": Row(GET, _r("reporting:play", case_set), PLAYERS),
    "reporting:case": Row(GET, _r("reporting:case", case_set, case), PLAYERS),
    "reporting:draft": Row(POST, _r("reporting:draft", case_set, case), PLAYERS),
    "reporting:submit": Row(POST, _r("reporting:submit", case_set, case), PLAYERS),
    "reporting:hint": Row(
        POST, _r("reporting:hint", case_set, case), PLAYERS, {"number": const(1)}
    ),
    "reporting:attempt": Row(GET, _r("reporting:attempt", rattempt), ATTEMPT_VIEWERS),
    "reporting:attempt_judge": Row(GET, _r("reporting:attempt_judge", rattempt), ATTEMPT_VIEWERS),
    "reporting:attempt_retry": Row(POST, _r("reporting:attempt_retry", rattempt), ATTEMPT_OWNER),
    # progress
    "progress:cohort": Row(GET, _r("progress:cohort", cohort), OWNER),
    "progress:cohort_csv": Row(GET, _r("progress:cohort_csv", cohort), OWNER),
    # game: the Continue button redirects every player to their own next case
    "game:continue": Row(GET, _r("game:continue"), USERS),
    # a player's own reviews and mistakes deck: nobody else's exist to ask for
    "game:review": Row(GET, _r("game:review"), USERS),
    "game:mistakes": Row(GET, _r("game:mistakes"), USERS),
    # the leaderboard: a player's own view and choice; the names only for the cohort's educators
    "game:leaderboard": Row(GET, _r("game:leaderboard"), USERS),
    "game:leaderboard_opt": Row(POST, _r("game:leaderboard_opt"), USERS),
    "game:cohort_leaderboard": Row(GET, _r("game:cohort_leaderboard", cohort), OWNER),
    # analytics (educators' dashboards)
    "analytics:admin": Row(GET, _r("analytics:admin"), ADMIN),
    "analytics:cohort": Row(GET, _r("analytics:cohort", cohort), OWNER),
    "analytics:findings": Row(GET, _r("analytics:findings", cohort), OWNER),
    "analytics:resident": Row(
        GET, _r("analytics:resident", cohort, lambda w: w.resident.pk), OWNER
    ),
    "analytics:export": Row(
        GET, _r("analytics:export", cohort, const("attempts"), const("csv")), OWNER
    ),
    "analytics:prepost_create": Row(POST, _r("analytics:prepost_create", cohort), OWNER),
    "analytics:prepost": Row(GET, _r("analytics:prepost", cohort, lambda w: w.prepost.pk), OWNER),
    "analytics:prepost_delete": Row(
        POST, _r("analytics:prepost_delete", cohort, lambda w: w.prepost.pk), OWNER
    ),
    "analytics:tokens": Row(GET, _r("analytics:tokens"), EDUCATORS),
    # A token is its issuer's alone (not even an admin revokes it for them).
    "analytics:token_revoke": Row(
        POST, _r("analytics:token_revoke", lambda w: w.api_token.pk), frozenset({"educator"})
    ),
    # exercises (the attempt lifecycle): an assessment's page and the educator's close
    "exercises:assessment": Row(GET, _r("exercises:assessment", assessment), OWNER),
    "exercises:assessment_close": Row(POST, _r("exercises:assessment_close", assessment), OWNER),
    # API
    "api-me": Row(GET, _r("api-me"), USERS),
    "api-cohort-list": Row(GET, _r("api-cohort-list"), USERS),
    "api-cohort-create": Row(POST, _r("api-cohort-create"), EDUCATORS),
    "api-cohort-join": Row(POST, _r("api-cohort-join"), USERS),
    "api-cohort-detail": Row(GET, _r("api-cohort-detail", cohort), OWNER),
    "api-invitation-create": Row(POST, _r("api-invitation-create", cohort), OWNER),
    "api-cohort-educator-add": Row(POST, _r("api-cohort-educator-add", cohort), OWNER),
    "api-case-list": Row(GET, _r("api-case-list"), EDUCATORS),
    "api-case-upload": Row(POST, _r("api-case-upload"), EDUCATORS),
    "api-case-import": Row(POST, _r("api-case-import"), EDUCATORS),
    "api-case-detail": Row(GET, _r("api-case-detail", case), OWNER),
    "api-case-truth": Row(PUT, _r("api-case-truth", case), OWNER),
    "api-case-publish": Row(POST, _r("api-case-publish", case), OWNER),
    "api-case-set-list": Row(GET, _r("api-case-set-list"), EDUCATORS),
    "api-case-set-detail": Row(GET, _r("api-case-set-detail", case_set), OWNER),
    "api-job-detail": Row(GET, _r("api-job-detail", lambda w: w.resident_job.pk), JOB_OWNER),
    "api-localize-sets": Row(GET, _r("api-localize-sets"), USERS),
    "api-localize-next-case": Row(POST, _r("api-localize-next-case", case_set), PLAYERS),
    "api-localize-attempt-submit": Row(
        POST, _r("api-localize-attempt-submit", case_set, case), PLAYERS
    ),
    "api-localize-hint": Row(
        POST, _r("api-localize-hint", case_set, case), PLAYERS, {"number": const(1)}
    ),
    "api-localize-attempt": Row(GET, _r("api-localize-attempt", lattempt), ATTEMPT_OWNER),
    "report-api-sets": Row(GET, _r("report-api-sets"), USERS),
    "report-api-next": Row(GET, _r("report-api-next", case_set), PLAYERS),
    "report-api-draft": Row(PUT, _r("report-api-draft", case_set, case), PLAYERS),
    "report-api-submit": Row(POST, _r("report-api-submit", case_set, case), PLAYERS),
    "report-api-hint": Row(
        POST, _r("report-api-hint", case_set, case), PLAYERS, {"number": const(1)}
    ),
    "report-api-attempt": Row(GET, _r("report-api-attempt", rattempt), ATTEMPT_OWNER),
    "report-api-retry": Row(POST, _r("report-api-retry", rattempt), ATTEMPT_OWNER),
    "api-cohort-progress": Row(GET, _r("api-cohort-progress", cohort), OWNER),
    "api-assessment-close": Row(POST, _r("api-assessment-close", assessment), OWNER),
    "api-analytics-export": Row(
        GET, _r("api-analytics-export", cohort, const("outcomes"), const("json")), OWNER
    ),
    "api-schema": Row(GET, _r("api-schema"), USERS),
    "api-docs": Row(GET, _r("api-docs"), USERS),
}

# Route names with more than one row (a second request shape for the same pattern).
EXTRA_ROWS = {"cases:image original": "cases:image"}


def _route_names(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[str]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                yield "admin"
                continue
            prefix = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _route_names(entry, prefix)
        elif isinstance(entry, URLPattern):
            pattern = str(entry.pattern)
            if "(?P<format>" in pattern or pattern.startswith("^"):
                continue  # format-suffix twins of routes that have a row
            assert entry.name, f"route {pattern!r} has no name: name it and give it a row"
            yield namespace + entry.name


def test_every_route_has_a_row() -> None:
    routes = set(_route_names())
    rows = {EXTRA_ROWS.get(name, name) for name in MATRIX}
    assert routes - rows == set(), "routes without a row in the authorization matrix"
    assert rows - routes == set(), "rows for routes that no longer exist"


@pytest.fixture
def world(
    settings: Any,
    tmp_path: Any,
    educator: Any,
    cohort: Any,
    resident: Any,
    other_cohort: Any,
    other_resident: Any,
) -> World:
    from apps.analytics.models import PrePost
    from apps.analytics.tokens import api_token_create
    from apps.cases.services.imports import IMPORT_JOB
    from apps.cases.services.uploads import INGEST_JOB
    from apps.cohorts.services import cohort_invitation_create
    from apps.inference.models import Job
    from apps.localization.services import localization_attempt_submit
    from apps.reporting.services import report_attempt_submit
    from tests.reporting.conftest import make_case, make_set

    settings.MEDIA_ROOT = tmp_path / "media"
    the_case = make_case(owner=educator, title="Matrix case")
    the_set = make_set(owner=educator, cases=[the_case], cohort=cohort, name="Matrix set")
    exam = make_set(owner=educator, cases=[the_case], cohort=cohort, name="Matrix exam")
    exam.mode = "assessment"
    exam.save(update_fields=["mode"])
    localize = localization_attempt_submit(
        user=resident,
        case=the_case,
        case_set=the_set,
        marks_json='{"boxes": []}',
        selected=["Effusion"],
        idempotency_key=uuid.uuid4(),
    ).attempt
    report, _ = report_attempt_submit(
        user=resident,
        case=the_case,
        case_set=the_set,
        text="No acute findings.",
        idempotency_key=uuid.uuid4().hex,
    )
    return World(
        cohort=cohort,
        resident=resident,
        invitation=cohort_invitation_create(actor=educator, cohort=cohort),
        case=the_case,
        image=the_case.images.first(),
        case_set=the_set,
        ingest_job=Job.objects.create(owner=educator, kind=INGEST_JOB, request={}),
        import_job=Job.objects.create(owner=educator, kind=IMPORT_JOB, request={"format": "nih"}),
        resident_job=Job.objects.create(owner=resident, kind="ml.diagnostics.ping", request={}),
        localize_attempt=localize,
        report_attempt=report,
        assessment=exam,
        api_token=api_token_create(actor=educator, name="matrix")[0],
        prepost=PrePost.objects.create(cohort=cohort, pre=exam, post=the_set, created_by=educator),
    )


# The same role as an allowed persona, without the object: the object-level refusals.
SAME_ROLE = {"other_educator": "educator", "other_resident": "resident"}


def _refused(response: Any) -> bool:
    """401/403/404, or a redirect to a login page (the site's, or the admin's for non-staff)."""
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and "/login/" in response.get("Location", "")


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_route_allows_only_its_personas(
    name: str, world: World, personas: dict[str, Any], admin_user: Any
) -> None:
    row = MATRIX[name]
    url = row.url(world)
    takes_ids = "<" in get_resolver().resolve(url).route
    body = urlencode({key: value(world) for key, value in (row.data or {}).items()})
    wrong = []
    for persona in PERSONAS:
        client = Client()
        if persona != "anon":
            client.force_login(
                personas[persona], backend="django.contrib.auth.backends.ModelBackend"
            )
        # Each request in a savepoint rolled back: one persona's write never feeds the next.
        with transaction.atomic():
            response = client.generic(
                row.method,
                url,
                data=body,
                content_type="application/x-www-form-urlencoded",
            )
            transaction.set_rollback(True)
        assert response.status_code < 500, f"{persona} {row.method} {url}: {response.status_code}"
        refused = _refused(response)
        if refused == (persona in row.allowed):
            verdict = "refused" if refused else "allowed"
            wrong.append(f"{persona}: {verdict} ({response.status_code})")
        elif (
            refused
            and takes_ids
            and SAME_ROLE.get(persona) in row.allowed
            and response.status_code != 404
        ):
            # Someone else's object, seen by a user of the role that may use the route: a 404,
            # so the answer does not tell whether the id exists.
            wrong.append(f"{persona}: refused with {response.status_code}, not 404")
    assert not wrong, f"{row.method} {url}: " + "; ".join(wrong)


# ------------------------------------------------------------------ websocket routes

WS_MATRIX = {"ws/jobs/": USERS}


def test_every_websocket_route_has_a_row() -> None:
    from radgame.routing import websocket_urlpatterns

    assert {str(p.pattern) for p in websocket_urlpatterns} == set(WS_MATRIX)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", sorted(WS_MATRIX))
def test_websocket_route_allows_only_its_personas(route: str, make_user: Any) -> None:
    from channels.testing import WebsocketCommunicator
    from django.contrib.auth.models import AnonymousUser

    from radgame.routing import websocket_urlpatterns

    consumer = next(p.callback for p in websocket_urlpatterns if str(p.pattern) == route)
    users = {"anon": AnonymousUser(), **{p: make_user(p) for p in ("resident", "educator")}}

    async def connects(user: Any) -> bool:
        communicator = WebsocketCommunicator(consumer, f"/{route}")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        if connected:
            await communicator.disconnect()
        return connected

    for persona, user in users.items():
        assert async_to_sync(connects)(user) == (persona in WS_MATRIX[route]), persona
