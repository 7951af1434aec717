"""R13: the project's migrations on a database that holds data, forwards, back to the previous
release and forwards again, each step timed.

A scratch Postgres database (beside the test database) is migrated to HEAD and seeded in bulk
with ATTEMPTS attempts (four in five Localize with a mark, one in five Report with its score),
their deliveries and reveals, cases with findings and boxes. Then every project app goes back to
its migration in the previous release (``RELEASE``) and forwards to HEAD, each step within
STEP_LIMIT_S; then back to its first migration (every data migration's reverse) and forwards
again. Every step must succeed and leave the seeded rows as they were. ``MIGRATION_ATTEMPTS``
sets the size (``make soak`` runs 10,000, RELIABILITY's figure). The step times are printed on
every run but held to their limits only where ``MIGRATION_TIME_GATE=1`` (``make soak``, on a
quiet machine): in ``make test`` the machine may be busy, and a timing is not a correctness check.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from .migration_lint import project_apps

ATTEMPTS = int(os.environ.get("MIGRATION_ATTEMPTS", "3000"))
STEP_LIMIT_S = 5.0
DEEP_LIMIT_S = 30.0
TIME_GATE = os.environ.get("MIGRATION_TIME_GATE") == "1"
ALIAS = "migration_rollback"
# The previous release: each app's last migration at 2e3f0fc (the start of 7 December 2026's
# work, before the dashboard indexes and the hints). Move it forward at each release.
RELEASE = {
    "accounts": "0002_user_time_zone",
    "analytics": "0002_prepost",
    "cases": "0004_practice_mode",
    "cohorts": "0002_drop_self_made_coeducators",
    "exercises": "0003_release_finished_assessments",
    "game": "0003_game_profile",
    "inference": "0002_job_sealed",
    "localization": "0004_practice_mode",
    "progress": "0002_scoreevent_post_reveal",
    "reporting": "0005_practice_mode",
}


def admin_connection(settings_dict: dict[str, Any]) -> psycopg.Connection:
    return psycopg.connect(
        dbname="postgres",
        user=settings_dict.get("USER") or "postgres",
        host=settings_dict.get("HOST") or "127.0.0.1",
        port=settings_dict.get("PORT") or 5432,
        password=settings_dict.get("PASSWORD") or None,
        autocommit=True,
    )


@pytest.fixture
def scratch(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """A fresh database under its own connection alias; dropped afterwards."""
    default = connections["default"].settings_dict
    name = f"{default['NAME']}_rollback"
    with admin_connection(default) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    connections.settings[ALIAS] = {**default, "NAME": name}
    test_database = connections["default"]
    # The project's data migrations query through their models' default manager, that is the
    # "default" database, as Django's own migrate does for them: the scratch database stands in.
    connections["default"] = connections[ALIAS]
    try:
        with django_db_blocker.unblock():
            yield ALIAS
    finally:
        connections[ALIAS].close()
        connections["default"] = test_database
        del connections[ALIAS]
        del connections.settings[ALIAS]
        with admin_connection(default) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(alias: str, targets: list[tuple[str, str]]) -> float:
    """One ``migrate`` step; returns its seconds."""
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(targets)
    assert plan, f"nothing to migrate to {targets}"
    started = time.monotonic()
    executor.migrate(targets, plan=plan)
    return time.monotonic() - started


def head(alias: str) -> list[tuple[str, str]]:
    return MigrationExecutor(connections[alias]).loader.graph.leaf_nodes()


def back_to_first_migrations(alias: str) -> float:
    """Each app back to its first migration, one app at a time (an app that another app's
    earlier step took below its first migration stays there); returns the seconds of the slowest
    step."""
    slowest = 0.0
    for app in sorted(project_apps()):
        target = [(app, "0001_initial")]
        plan = MigrationExecutor(connections[alias]).migration_plan(target)
        if plan and all(backwards for _, backwards in plan):
            slowest = max(slowest, migrate(alias, target))
    return slowest


def seed(alias: str, attempts: int) -> dict[str, int]:
    """Bulk rows at HEAD; returns the row count of each seeded table."""
    from apps.accounts.models import User
    from apps.cases.models import Case, CaseImage, CaseSet, CaseSetItem, Finding, FindingBox
    from apps.exercises.models import CaseReveal, Delivery
    from apps.localization.models import LocalizationAttempt, Mark
    from apps.reporting.models import ReportAttempt, ReportScore

    rng = random.Random(13)
    now = timezone.now()
    db = alias
    educator = User.objects.db_manager(db).create(username="educator", role="educator")
    residents = User.objects.using(db).bulk_create(
        User(username=f"resident-{n:03d}") for n in range(60)
    )
    cases = Case.objects.using(db).bulk_create(
        Case(title=f"case {n}", owner=educator, status="published") for n in range(30)
    )
    size = {"width": 64, "height": 64, "display_width": 64, "display_height": 64}
    images = CaseImage.objects.using(db).bulk_create(
        CaseImage(case=c, kind="png", original="o.png", display="d.png", sha256="0" * 64, **size)
        for c in cases
    )
    findings = Finding.objects.using(db).bulk_create(
        Finding(case=case, label="Nodule") for case in cases
    )
    FindingBox.objects.using(db).bulk_create(
        FindingBox(finding=f, image=images[n], x1=0.1, y1=0.1, x2=0.4, y2=0.4)
        for n, f in enumerate(findings)
    )
    case_set = CaseSet.objects.db_manager(db).create(name="practice", owner=educator)
    CaseSetItem.objects.using(db).bulk_create(
        CaseSetItem(case_set=case_set, case=case, position=n) for n, case in enumerate(cases)
    )
    local, report, deliveries, reveals = [], [], [], {}
    for n in range(attempts):
        user, case = residents[n % len(residents)], cases[(n // len(residents)) % len(cases)]
        when = now - timedelta(minutes=attempts - n)
        common = {
            "user": user,
            "case": case,
            "case_set": case_set,
            "attempt_no": n // (len(residents) * len(cases)) + 1,
            "idempotency_key": uuid.uuid4(),
            "submitted_at": when,
            "time_taken_s": rng.uniform(10, 100),
        }
        kind = "report" if n % 5 == 4 else "localize"
        deliveries.append(
            Delivery(
                user=user,
                exercise=kind,
                case=case,
                case_set=case_set,
                delivered_at=when,
                closed_at=when,
            )
        )
        reveals.setdefault((user.pk, case.pk), CaseReveal(user=user, case=case, exercise=kind))
        reveals[(user.pk, case.pk)].revealed_at = when
        if kind == "report":
            report.append(
                ReportAttempt(**common, text="No acute findings.", status="scored", score=0.8)
            )
        else:
            result = {"score": 0.5, "hits": [], "misses": [], "false_positives": []}
            local.append(
                LocalizationAttempt(
                    **common, score=0.5, result=result, scorer_version="s", iou_threshold=0.3
                )
            )
    local = LocalizationAttempt.objects.using(db).bulk_create(local)
    report = ReportAttempt.objects.using(db).bulk_create(report)
    Mark.objects.using(db).bulk_create(
        Mark(attempt=a, index=0, label="Nodule", x1=0.1, y1=0.1, x2=0.3, y2=0.3) for a in local
    )
    ReportScore.objects.using(db).bulk_create(
        ReportScore(attempt=a, scorer_version="s", kind="rules", result={}, clinical_percent=80.0)
        for a in report
    )
    Delivery.objects.using(db).bulk_create(deliveries)
    CaseReveal.objects.using(db).bulk_create(reveals.values())
    return counts(db)


SEEDED = {
    "accounts_user": "SELECT count(*) FROM accounts_user",
    "localization": "SELECT count(*), sum(score) FROM localization_localizationattempt",
    "marks": "SELECT count(*) FROM localization_mark",
    "reporting": "SELECT count(*), count(score), sum(score) FROM reporting_reportattempt",
    "report_keys": "SELECT count(DISTINCT idempotency_key) FROM reporting_reportattempt",
    "boxes": "SELECT count(*) FROM cases_findingbox",
    "deliveries": "SELECT count(*) FROM exercises_delivery",
    "reveals": "SELECT count(*) FROM exercises_casereveal",
}


def counts(alias: str) -> dict[str, Any]:
    with connections[alias].cursor() as cursor:
        out = {}
        for name, sql in SEEDED.items():
            cursor.execute(sql)
            out[name] = tuple(cursor.fetchone())
        return out


def test_migrations_go_back_to_the_previous_release_and_forward_on_a_seeded_database(
    scratch: str,
) -> None:
    migrate(scratch, head(scratch))
    seeded = seed(scratch, ATTEMPTS)
    assert seeded["localization"][0] + seeded["reporting"][0] == ATTEMPTS
    release = sorted(RELEASE.items())
    assert {app for app, _ in release} == project_apps(), "RELEASE must name every project app"
    steps = {
        "back to the previous release": migrate(scratch, release),
        "forward to HEAD": migrate(scratch, head(scratch)),
    }
    assert counts(scratch) == seeded
    steps["back to each app's first migration (slowest app)"] = back_to_first_migrations(scratch)
    steps["forward to HEAD again"] = migrate(scratch, head(scratch))
    after = counts(scratch)
    print(f"R13 {ATTEMPTS} attempts:", {step: round(s, 2) for step, s in steps.items()})
    assert after == seeded
    if not TIME_GATE:
        return
    release_steps = list(steps.items())[:2]  # RELIABILITY R13's pass figure: a deploy's rollback
    slow = {step: round(s, 2) for step, s in release_steps if s > STEP_LIMIT_S}
    assert not slow, f"migration steps over {STEP_LIMIT_S} s: {slow}"
    # The deep round trip replays every data migration and renders every historical state (the
    # bulk of its time): bounded, not held to a deploy's figure.
    assert max(steps.values()) < DEEP_LIMIT_S, steps
