"""The educators' dashboard pages on a large cohort: p95 load time and queries per page.

    DATABASE_URL=postgres://... python bench/dashboard.py --residents 500 --attempts 100000

Builds (once per --residents/--attempts, reused on later runs) one cohort of that many residents
with an assigned practice set and two linked assessments, and that many attempts (four in five
Localize, with real scored results and confidences; one in five Report, with itemised errors),
spread over 26 weeks, written in bulk. Then loads each dashboard page --loads times as the
cohort's educator and prints the p95 and median time and the query count of each, with the
machine it ran on. Target: p95 <= 300 ms per page.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("Nodule", "Mass", "Effusion", "Atelectasis", "Cardiomegaly", "Pneumothorax")
CASES = 40


def build(residents: int, attempts: int) -> tuple[Any, Any, Any]:
    from django.db import transaction

    from apps.accounts.models import User
    from apps.cohorts.models import Cohort

    name = f"bench-dash-{residents}-{attempts}-v1"
    existing = User.objects.filter(username=f"{name}-educator").first()
    if existing is not None:
        cohort = Cohort.objects.get(name=name)
        return existing, cohort, cohort.memberships.filter(role="resident").first().user
    from apps.analytics.summary import reconcile

    with transaction.atomic():
        built = _build(name, residents, attempts)
    reconcile(fix=True)  # the attempts were written in bulk, past the lifecycle's hook
    return built


def _results(rng: random.Random, regions: list[tuple[str, tuple[float, ...]]]) -> list[dict]:
    """A few real scored answers to one case: found, missed, and false marks, with confidences."""
    from ml.boxes import score_localize

    reference = {"findings": [{"label": lb, "regions": [[list(box)]]} for lb, box in regions]}
    out = []
    for _ in range(6):
        boxes = []
        for label, box in regions:
            if rng.random() < 0.6:
                boxes.append({"label": label, "box": list(box), "confidence": rng.randint(2, 5)})
        if rng.random() < 0.5:
            x, y = rng.uniform(0.05, 0.7), rng.uniform(0.05, 0.7)
            boxes.append(
                {
                    "label": rng.choice(LABELS),
                    "box": [x, y, x + 0.2, y + 0.2],
                    "confidence": rng.randint(1, 4),
                }
            )
        out.append(score_localize(reference, {"boxes": boxes}))
    return out


def _build(name: str, residents: int, attempts: int) -> tuple[Any, Any, Any]:
    from django.utils import timezone
    from PIL import Image

    from apps.accounts.services import user_create
    from apps.analytics.models import PrePost
    from apps.cases.imaging import ingest_image
    from apps.cases.services import case_create, case_image_add, case_publish, case_selected_set
    from apps.cases.services.sets import case_set_assign, case_set_case_add, case_set_create
    from apps.cohorts.models import Membership
    from apps.cohorts.services import cohort_create
    from apps.localization.models import LocalizationAttempt
    from apps.reporting.models import ReportAttempt, ReportScore

    rng = random.Random(7)
    educator = user_create(username=f"{name}-educator", password=None, role="educator")
    cohort = cohort_create(actor=educator, name=name)
    users = [user_create(username=f"{name}-r{n:04d}", password=None) for n in range(residents)]
    Membership.objects.bulk_create(Membership(cohort=cohort, user=u) for u in users)
    buffer = io.BytesIO()
    Image.effect_noise((128, 128), 40).convert("L").save(buffer, format="PNG")
    png = buffer.getvalue()
    sets = [
        case_set_create(actor=educator, name=f"{name} {kind}", mode=mode)
        for kind, mode in (("practice", "practice"), ("pre", "assessment"), ("post", "assessment"))
    ]
    cases, results = [], []
    for n in range(CASES):
        case = case_create(actor=educator, title=f"{name} case {n}")
        case_image_add(actor=educator, case=case, ingested=ingest_image(png), source=png)
        case_selected_set(actor=educator, case=case, labels=["Effusion"])
        case = case_publish(actor=educator, case=case)
        case_set_case_add(actor=educator, case_set=sets[0 if n < 30 else 1 + n % 2], case=case)
        cases.append(case)
        regions = []
        for label in rng.sample(LABELS, rng.randint(0, 2)):
            x, y = rng.uniform(0.05, 0.6), rng.uniform(0.05, 0.6)
            regions.append((label, (x, y, x + 0.25, y + 0.25)))
        results.append(_results(rng, regions))
    now = timezone.now()
    for case_set in sets:
        case_set_assign(
            actor=educator,
            case_set=case_set,
            cohort=cohort,
            due_at=now - timezone.timedelta(days=3),
        )
    PrePost.objects.create(cohort=cohort, pre=sets[1], post=sets[2], created_by=educator)
    errors = [{"category": c, "label": "Effusion"} for c in ("missed_finding", "false_finding")]
    per_user = max(attempts // residents, 1)
    for u, user in enumerate(users):
        local, report = [], []
        for i in range(per_user):
            n = (u + i) % CASES
            case_set = sets[0 if n < 30 else 1 + n % 2]
            common = {
                "user": user,
                "case": cases[n],
                "case_set": case_set,
                "attempt_no": i // CASES + 1,
                "idempotency_key": uuid.uuid4(),
                "submitted_at": now - timezone.timedelta(hours=rng.randint(0, 26 * 7 * 24)),
                "time_taken_s": rng.uniform(20, 200),
                "post_reveal": i >= CASES,
            }
            if i % 5 == 4:
                report.append(
                    ReportAttempt(**common, score=rng.random(), status="scored", text="Bench.")
                )
            else:
                result = rng.choice(results[n])
                local.append(
                    LocalizationAttempt(
                        **common,
                        score=result["score"],
                        result=result,
                        scorer_version="bench",
                        iou_threshold=0.3,
                    )
                )
        LocalizationAttempt.objects.bulk_create(local)
        rows = ReportAttempt.objects.bulk_create(report)
        ReportScore.objects.bulk_create(
            ReportScore(
                attempt=a,
                scorer_version="bench",
                kind="rules",
                result={"errors": errors[: rng.randint(0, 2)]},
                clinical_score=a.score,
            )
            for a in rows
        )
    return educator, cohort, users[0]


def vacuum() -> None:
    """What autovacuum does to a live database after a bulk load: statistics, and the visibility
    map that lets the dashboard's queries scan their covering indexes only."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("localization_localizationattempt", "reporting_reportattempt"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="empty the cache before every load (the findings and pre/post pages are cached "
        "per cohort until an attempt of its residents is recorded): the cost of a miss",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print each page's queries and their times"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radgame.settings.local")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from apps.analytics.models import PrePost

    started = time.perf_counter()
    educator, cohort, resident = build(args.residents, args.attempts)
    vacuum()
    print(
        f"data ready in {time.perf_counter() - started:.1f}s "
        f"({args.residents} residents, {args.attempts} attempts)"
    )
    pair = PrePost.objects.get(cohort=cohort)
    pages = {
        "cohort dashboard": reverse("analytics:cohort", args=[cohort.pk]),
        "findings + FROC": reverse("analytics:findings", args=[cohort.pk]),
        "resident drill-down": reverse("analytics:resident", args=[cohort.pk, resident.pk]),
        "pre/post results": reverse("analytics:prepost", args=[cohort.pk, pair.pk]),
        "admin, all cohorts": reverse("analytics:admin"),
    }
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"load={os.getloadavg()[0]:.1f} db={connection.vendor}"
        f"{' cache emptied before every load' if args.cold else ''}"
    )
    client = Client()
    client.force_login(educator, backend="django.contrib.auth.backends.ModelBackend")
    if educator.role != "admin":
        educator.role = "admin"  # the admin page needs one; it sees every cohort
        educator.save(update_fields=["role"])
    worst = 0.0
    for label, url in pages.items():
        client.get(url)
        times = []
        for _ in range(args.loads):
            if args.cold:
                cache.clear()
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                assert client.get(url).status_code == 200, url
                times.append(time.perf_counter() - t0)
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        worst = max(worst, p95)
        sql = sum(float(q["time"]) for q in ctx.captured_queries)
        print(
            f"{label:22s} p95 {1000 * p95:6.0f} ms  median {1000 * statistics.median(times):6.0f}"
            f" ms  {len(ctx.captured_queries)} queries ({1000 * sql:.0f} ms SQL in the last load)"
        )
        if args.profile:
            for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:6]:
                print(f"    {1000 * float(q['time']):6.0f} ms  {q['sql'][:150]}")
    print(f"worst p95 {1000 * worst:.0f} ms (target <= 300 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
