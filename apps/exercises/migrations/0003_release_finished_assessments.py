"""Keep showing what the old rule showed: before the shared lifecycle an assessment was released
to a player who had answered every published case of the set in Localize. Those players get a
release row now, so their results do not disappear behind the new both-exercises rule."""

from django.db import migrations


def forwards(apps, schema_editor):
    CaseSet = apps.get_model("cases", "CaseSet")
    CaseSetItem = apps.get_model("cases", "CaseSetItem")
    LocalizationAttempt = apps.get_model("localization", "LocalizationAttempt")
    AssessmentRelease = apps.get_model("exercises", "AssessmentRelease")
    for case_set in CaseSet.objects.filter(mode="assessment").iterator():
        published = set(
            CaseSetItem.objects.filter(case_set=case_set, case__status="published").values_list(
                "case_id", flat=True
            )
        )
        if not published:
            continue
        answered: dict[int, set[int]] = {}
        last: dict[int, object] = {}
        for user_id, case_id, when in LocalizationAttempt.objects.filter(
            case_set=case_set
        ).values_list("user_id", "case_id", "submitted_at"):
            answered.setdefault(user_id, set()).add(case_id)
            last[user_id] = max(last.get(user_id, when), when)
        AssessmentRelease.objects.bulk_create(
            [
                AssessmentRelease(case_set=case_set, user_id=user_id, released_at=last[user_id])
                for user_id, cases in answered.items()
                if published <= cases
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("exercises", "0002_backfill"),
        ("localization", "0002_localizationattempt_blank_and_more"),
        ("cases", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
