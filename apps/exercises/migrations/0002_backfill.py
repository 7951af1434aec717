"""Move Localize's deliveries onto the shared table and record the reveals the old data implies:
every case a player has answered before this migration counts as revealed to them (the old rules
showed the answer at submit, or at the end of an assessment), so no later replay earns accuracy."""

from django.db import migrations


def forwards(apps, schema_editor):
    old = apps.get_model("localization", "CaseDelivery")
    Delivery = apps.get_model("exercises", "Delivery")
    CaseReveal = apps.get_model("exercises", "CaseReveal")
    Delivery.objects.bulk_create(
        [
            Delivery(
                user_id=row.user_id,
                exercise="localize",
                case_id=row.case_id,
                case_set_id=row.case_set_id,
                delivered_at=row.delivered_at,
                idempotency_key=row.idempotency_key,
                closed_at=row.closed_at,
            )
            for row in old.objects.all().iterator()
        ],
        batch_size=1000,
    )
    first: dict[tuple[int, int], tuple[object, str]] = {}
    for app_label, kind in (("localization", "localize"), ("reporting", "report")):
        model = apps.get_model(app_label, {"localization": "LocalizationAttempt"}.get(
            app_label, "ReportAttempt"
        ))
        for user_id, case_id, when in model.objects.values_list(
            "user_id", "case_id", "submitted_at"
        ).iterator():
            seen = first.get((user_id, case_id))
            if seen is None or when < seen[0]:
                first[(user_id, case_id)] = (when, kind)
    CaseReveal.objects.bulk_create(
        [
            CaseReveal(user_id=u, case_id=c, exercise=kind, revealed_at=when)
            for (u, c), (when, kind) in first.items()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def backwards(apps, schema_editor):
    old = apps.get_model("localization", "CaseDelivery")
    Delivery = apps.get_model("exercises", "Delivery")
    old.objects.bulk_create(
        [
            old(
                user_id=row.user_id,
                case_id=row.case_id,
                case_set_id=row.case_set_id,
                delivered_at=row.delivered_at,
                idempotency_key=row.idempotency_key,
                closed_at=row.closed_at,
            )
            for row in Delivery.objects.filter(exercise="localize").iterator()
        ],
        batch_size=1000,
    )
    # Moved back, not copied: forwards copies them again (tests/radgame/test_migration_rollback.py
    # found every Localize delivery twice after a round trip).
    Delivery.objects.filter(exercise="localize").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exercises", "0001_initial"),
        ("localization", "0001_initial"),
        ("reporting", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
