"""Report attempts onto the shared lifecycle: one key type (a UUID; a client key that was not one
becomes the UUID5 of its text), replays after the first attempt are after the reveal, and the rule-based clinical
percent becomes the attempt's score."""

import uuid

from django.db import migrations

KEY_NAMESPACE = uuid.UUID("5b0f4c1e-8a47-4b7e-9a55-6a2f0d7c3e91")


def _as_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.uuid5(KEY_NAMESPACE, text)


def forwards(apps, schema_editor):
    ReportAttempt = apps.get_model("reporting", "ReportAttempt")
    ReportScore = apps.get_model("reporting", "ReportScore")
    latest: dict[int, float | None] = {}
    for attempt_id, percent in (
        ReportScore.objects.filter(kind="rules")
        .order_by("attempt_id", "created_at", "pk")
        .values_list("attempt_id", "clinical_percent")
    ):
        latest[attempt_id] = percent
    for attempt in ReportAttempt.objects.all().iterator():
        # 32 hex digits: what a UUID column reads on Postgres and stores on SQLite.
        attempt.idempotency_key = _as_uuid(str(attempt.idempotency_key)).hex
        attempt.post_reveal = attempt.attempt_no > 1
        percent = latest.get(attempt.pk)
        attempt.score = None if percent is None else max(0.0, min(1.0, percent / 100.0))
        attempt.save(update_fields=["idempotency_key", "post_reveal", "score"])


class Migration(migrations.Migration):
    dependencies = [("reporting", "0002_lifecycle_fields")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
