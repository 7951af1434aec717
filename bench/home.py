"""The resident's home page with many attempts: queries per load and the time of each.

    DATABASE_URL=postgres://... python bench/home.py --attempts 100000

Builds (once per --attempts value, reused on later runs) one resident in a cohort with an assigned
set, and that many scored Localize attempts with their ledger rows spread over 400 days, written
in bulk; then loads the home page --loads times and prints the median load time, the number of
queries and the slowest queries of the last load, with the machine it ran on.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(attempts: int) -> tuple[object, object]:
    from django.db import transaction

    with transaction.atomic():
        return _build(attempts)


def _build(attempts: int) -> tuple[object, object]:
    from django.db import connection
    from django.utils import timezone
    from PIL import Image

    from apps.accounts.models import User
    from apps.accounts.services import user_create
    from apps.cases.imaging import ingest_image
    from apps.cases.models import CaseSet
    from apps.cases.services import case_create, case_image_add, case_publish, case_selected_set
    from apps.cases.services.sets import case_set_assign, case_set_case_add, case_set_create
    from apps.cohorts.services import cohort_create, cohort_join_by_code
    from apps.localization.models import LocalizationAttempt
    from apps.progress.models import ScoreEvent

    name = f"bench-home-{attempts}-v2"
    existing = User.objects.filter(username=name).first()
    if existing is not None:
        return existing, CaseSet.objects.get(name=name)
    educator = user_create(username=f"{name}-educator", password=None, role="educator")
    cohort = cohort_create(actor=educator, name=name)
    resident = user_create(username=name, password=None)
    cohort_join_by_code(user=resident, code=cohort.join_code)
    case_set = case_set_create(actor=educator, name=name)
    cases = []
    buffer = io.BytesIO()
    Image.effect_noise((256, 256), 40).convert("L").save(buffer, format="PNG")
    png = buffer.getvalue()
    for n in range(20):
        case = case_create(actor=educator, title=f"{name} {n}")
        case_image_add(actor=educator, case=case, ingested=ingest_image(png), source=png)
        case_selected_set(actor=educator, case=case, labels=["Effusion"])
        case_set_case_add(
            actor=educator, case_set=case_set, case=case_publish(actor=educator, case=case)
        )
        cases.append(case)
    case_set_assign(
        actor=educator,
        case_set=case_set,
        cohort=cohort,
        due_at=timezone.now() + timezone.timedelta(days=3),
    )
    now = timezone.now()
    for start in range(0, attempts, 5000):
        rows = LocalizationAttempt.objects.bulk_create(
            LocalizationAttempt(
                user=resident,
                case=cases[i % 20],
                case_set=case_set,
                attempt_no=i // 20 + 1,
                idempotency_key=uuid.uuid4(),
                submitted_at=now,
                score=(i % 10) / 10,
                xp=5,
                post_reveal=i >= 20,
                result={},
                reference=[],
                scorer_version="bench",
                iou_threshold=0.3,
            )
            for i in range(start, min(attempts, start + 5000))
        )
        ScoreEvent.objects.bulk_create(
            ScoreEvent(
                user=resident,
                kind="localize",
                case=a.case,
                case_set=case_set,
                attempt_ref=a.ref,
                score=a.score,
                xp=5,
                post_reveal=a.post_reveal,
            )
            for a in rows
        )
    with connection.cursor() as cursor:  # spread over 400 days (Postgres)
        cursor.execute(
            "UPDATE progress_scoreevent SET created_at = now() - (id %% 400) * interval '1 day' "
            "WHERE user_id = %s",
            [resident.pk],
        )
    return resident, case_set


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radgame.settings.local")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    resident, _ = build(args.attempts)
    print(f"data ready in {time.perf_counter() - started:.1f}s ({args.attempts} attempts)")
    client = Client()
    client.force_login(resident, backend="django.contrib.auth.backends.ModelBackend")
    client.get("/")
    times = []
    for _ in range(args.loads):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            assert client.get("/").status_code == 200
            times.append(time.perf_counter() - t0)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"load={os.getloadavg()[0]:.1f} db={connection.vendor}"
    )
    print(
        f"home page: median {1000 * statistics.median(times):.0f} ms over {args.loads} loads, "
        f"{len(ctx.captured_queries)} queries"
    )
    for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:5]:
        print(f"  {1000 * float(q['time']):7.1f} ms  {q['sql'][:150]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
