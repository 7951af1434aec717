"""The embedded default (SQLite, what ``make demo`` serves) runs compiled reads through the ORM.

SQLite adapts parameters while compiling (UUIDs and datetimes become strings), so the compiled
cache cannot find an argument's place there; ``compiled_values`` must answer like the queryset
itself instead of refusing (it once broke every Report submit of the demo). A subprocess gives
this test a real SQLite database beside the suite's Postgres.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import uuid
    from datetime import UTC, datetime
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Q
    from apps.core.compiled import compiled_values

    assert connection.vendor == "sqlite", connection.vendor
    User = get_user_model()
    a = User.objects.create(username="a")
    b = User.objects.create(username="b")

    def build(user_id, name, since, token):
        return (
            User.objects.filter(Q(pk=user_id) | Q(username=name), date_joined__gte=since)
            .exclude(username=str(token))
            .values("pk", "username")
            .order_by("pk")
        )

    args = {"user_id": a.pk, "name": "b", "since": datetime(2000, 1, 1, tzinfo=UTC),
            "token": uuid.uuid4()}
    for _ in range(2):
        rows = compiled_values("sqlite probe", build, args)
        assert rows == list(build(**args)) == [
            {"pk": a.pk, "username": "a"}, {"pk": b.pk, "username": "b"}], rows
    from django.db import transaction
    from apps.core.compiled import compiled_values_after
    lock = ("sqlite lock", lambda user_id: User.objects.filter(pk=user_id)
            .select_for_update().values("pk"), {"user_id": b.pk})
    with transaction.atomic():
        assert compiled_values_after(lock, "sqlite probe", build, args) == rows
    print("ok")
    """
)


def test_compiled_values_answers_on_the_embedded_sqlite_default(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["RADGAME_VAR_DIR"] = str(tmp_path)
    for args in (["migrate", "--noinput", "-v", "0"], ["shell", "-c", SCRIPT]):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")
