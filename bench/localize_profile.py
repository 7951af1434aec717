"""Where one Localize submit's milliseconds go: the ``profile`` section of bench/localize.py.

    python bench/localize.py --section profile [--profile-submits 300] [--compare-root DIR]

The bench database is built as for the ``load`` section (migrated, seeded through the services);
then, in one process with the load section's server settings (base settings, DEBUG off, the
psycopg pool, jobs published to Redis when it answers), Django's test client posts the same
answers with the same session and CSRF cookies through the whole middleware stack (the WSGI
handler: the ASGI one adds uvicorn's parsing and a thread hop, which the load section measures).

Prints the SQL of one submit (and of the publish after commit), the process CPU per submit
without a profiler, and a cProfile breakdown in buckets (each bucket's cumulative time as a share
of the request, scaled to the unprofiled CPU per submit).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# (label, file suffix, function name): a bucket is the cumulative time of the function, so
# nested buckets (indented labels) are parts of the one above them.
BUCKETS = [
    ("whole request (handler)", "django/core/handlers/base.py", "get_response"),
    ("  session load", "django/contrib/sessions/backends/base.py", "_get_session"),
    ("  user load (auth)", "django/contrib/auth/__init__.py", "get_user"),
    ("  DRF throttles", "rest_framework/views.py", "check_throttles"),
    ("  DRF body parse", "rest_framework/request.py", "_parse"),
    ("  view (AttemptSubmitApi.post)", "apps/localization/api.py", "post"),
    ("    set, case, visibility read", "apps/localization/selectors.py", "playable_case_in_set"),
    ("    input serializer", "rest_framework/serializers.py", "is_valid"),
    ("    submit service", "apps/localization/services.py", "localization_attempt_submit"),
    ("      truth read", "apps/localization/reference.py", "scoring_reference"),
    ("      scoring (ml.boxes)", "ml/boxes/scoring.py", "score_localize"),
    ("      lock + player state", "apps/exercises/services.py", "_start"),
    ("      attempt, marks, ledger, job rows", "apps/localization/services.py", "store"),
    ("        explanation requests", "apps/localization/explanations.py",
     "attempt_explain_requests"),
    ("      commit", "django/db/backends/base/base.py", "commit"),
    ("      job publish (after commit)", "apps/inference/services.py", "job_send"),
    ("    reply: feedback", "apps/localization/api.py", "attempt_data"),
    ("    reply: output serializer", "rest_framework/serializers.py", "data"),
    ("  JSON render", "rest_framework/renderers.py", "render"),
    ("all SQL execution (psycopg)", "django/db/backends/utils.py", "_execute"),
]  # fmt: skip


def section_profile(args: Any) -> None:
    """Parent side: a fresh bench database, then this module in a child process on it."""
    import subprocess

    import localize_server as server
    from localize import machine

    print("== profile ==")
    print(f"machine: {machine().rsplit(' | ', 1)[0]}")
    jobs = args.jobs or ("celery" if server.redis_reachable(args.redis_url) else "inprocess")
    pool = server.pool_available() and args.pool != "off"
    print(f"inputs: {args.profile_submits} submits per measurement, Django test client through "
          f"the whole middleware stack, base settings, DEBUG off, pool {'on' if pool else 'off'}, "
          f"jobs {jobs}")  # fmt: skip
    roots = [("this checkout", server.ROOT)]
    if args.compare_root:
        roots.append((f"compared: {args.compare_root}", Path(args.compare_root).resolve()))
    for label, root in roots:
        print(f"-- {label}; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        with server.prepared(args, jobs, pool, root) as ready:
            subprocess.run(
                [server.PYTHON, __file__, str(ready.work / "seed.json"), str(args.profile_submits)],
                cwd=ready.root, env=ready.env, check=True,
            )  # fmt: skip
            if jobs == "celery":
                server.flush_broker(args.redis_url)


def _client(load: Any, user: int) -> Any:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = load.sessions[user]
    client.cookies["csrftoken"] = load.csrf[user]
    return client


def _post(clients: list[Any], load: Any, n: int) -> int:
    user = n % len(clients)
    url, headers, body = load.request(user)
    response = clients[user].post(
        url, body, content_type="application/json", HTTP_X_CSRFTOKEN=headers["X-CSRFToken"]
    )
    if response.status_code != 201:
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    return len(response.content)


async def _asgi_posts(app: Any, load: Any, first: int, n: int) -> None:
    """``n`` submits through the ASGI application in this process (no server, no socket):
    the same requests as ``_post``, so the difference is the ASGI handler's own cost."""
    import asyncio

    for i in range(first, first + n):
        url, headers, body = load.request(i % len(load.sessions))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": url, "raw_path": url.encode(),
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()),
                        *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        }  # fmt: skip
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []

        async def receive(messages: list[dict[str, Any]] = messages) -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any], status: list[int] = status) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [201]:
            raise RuntimeError(f"ASGI submit answered {status}")


def _bucket_times(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    out: dict[str, float] = {}
    for label, suffix, name in BUCKETS:
        total = 0.0
        for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.items():
            if function == name and filename.endswith(suffix):
                total += ct
        out[label] = total
    return out


def profile(seed_file: Path, submits: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from localize_load import Load  # bench/ is on sys.path (this file's folder)

    data = json.loads(seed_file.read_text())
    load = Load("", data, 7, cpu=None)  # type: ignore[arg-type]
    clients = [_client(load, n) for n in range(len(load.sessions))]
    for n in range(60):  # warm-up: imports, URL resolver, pool, first reveals
        _post(clients, load, n)

    with CaptureQueriesContext(connection) as queries:
        size = _post(clients, load, 0)
    print(f"SQL of one submit (a replay of a revealed case, as most bench submits are; "
          f"reply {size} bytes): {len(queries)} statements")  # fmt: skip
    for q in queries.captured_queries:
        print(f"    {' '.join(q['sql'].split())[:110]}")
    counted = 100  # a mix of first readings and replays, with and without an explanation job
    with CaptureQueriesContext(connection) as queries:
        for n in range(counted):
            _post(clients, load, 61 + n)
    kinds = Counter(" ".join(q["sql"].split()[:3])[:40] for q in queries.captured_queries)
    print(
        f"statements per submit, mean over the next {counted}: {len(queries) / counted:.2f} "
        "(the publish's after commit included); most frequent:"
    )
    for kind, n in kinds.most_common():
        print(f"    {n / counted:5.2f}  {kind}")

    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(submits):
        _post(clients, load, n)
    cpu_ms = 1000 * (time.process_time() - cpu) / submits
    wall_ms = 1000 * (time.perf_counter() - wall) / submits
    print(
        f"process CPU per submit, no profiler: {cpu_ms:.2f} ms (wall {wall_ms:.2f} ms; the "
        "test client's own share is in it, about 0.3 ms)"
    )

    import asyncio

    from radgame.asgi import application

    asyncio.run(_asgi_posts(application, load, 0, 30))  # warm-up
    cpu, wall = time.process_time(), time.perf_counter()
    asyncio.run(_asgi_posts(application, load, 0, submits))
    asgi_ms = 1000 * (time.process_time() - cpu) / submits
    print(
        f"process CPU per submit through the ASGI application in process: {asgi_ms:.2f} ms "
        f"(wall {1000 * (time.perf_counter() - wall) / submits:.2f} ms): the handler's own cost "
        f"is about {asgi_ms - cpu_ms:.2f} ms; a server adds its HTTP parsing and sockets"
    )

    profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting on Postgres
    profiler.enable()
    for n in range(submits):
        _post(clients, load, n)
    profiler.disable()
    dump = os.environ.get("BENCH_PROFILE_DUMP")  # a folder: the raw stats, for pstats/snakeviz
    if dump:
        profiler.dump_stats(Path(dump) / f"{Path.cwd().name}.prof")
    buckets = _bucket_times(profiler)
    whole = buckets[BUCKETS[0][0]] or 1.0
    print("cProfile buckets (cumulative CPU; share of the request, scaled to the unprofiled CPU):")
    for label, _suffix, _name in BUCKETS:
        share = buckets[label] / whole
        print(f"    {label:<44}{100 * share:5.1f} %  ~{share * cpu_ms:5.2f} ms")
    top = pstats.Stats(profiler)
    top.sort_stats("tottime")
    rows = sorted(top.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]  # type: ignore[attr-defined]
    print("top functions by own time:")
    for (filename, line, function), (_cc, calls, tottime, _ct, _callers) in rows:
        where = "/".join(Path(filename).parts[-2:])
        print(f"    {100 * tottime / whole:5.1f} %  {calls // submits:>4}/submit  "
              f"{function} ({where}:{line})")  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or ".")
    profile(Path(sys.argv[1]), int(sys.argv[2]))
