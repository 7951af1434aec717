"""A resident's box belongs to the view it was drawn on. Before views, Localize drew on the
case's first view only, so existing boxes go there (ticks have no view)."""

import django.db.models.deletion
from django.db import migrations, models


def marks_on_first_view(apps, schema_editor):
    CaseImage = apps.get_model("cases", "CaseImage")
    Mark = apps.get_model("localization", "Mark")
    first = {}
    for case_id, image_id in CaseImage.objects.order_by("case_id", "position", "pk").values_list(
        "case_id", "pk"
    ):
        first.setdefault(case_id, image_id)
    for case_id, image_id in first.items():
        Mark.objects.filter(attempt__case_id=case_id, selected=False, image__isnull=True).update(
            image_id=image_id
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_findingbox_image"),
        ("localization", "0002_localizationattempt_blank_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="mark",
            name="image",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="cases.caseimage",
            ),
        ),
        migrations.RunPython(marks_on_first_view, migrations.RunPython.noop, elidable=True),
    ]
