"""Ground-truth boxes belong to a view. Every box drawn before views existed was drawn on the
case's first view (the only one the editor showed), so that is where existing boxes go."""

import django.db.models.deletion
from django.db import migrations, models


def first_views(apps):
    """{case id: id of its first view}."""
    CaseImage = apps.get_model("cases", "CaseImage")
    first = {}
    for case_id, image_id in CaseImage.objects.order_by("case_id", "position", "pk").values_list(
        "case_id", "pk"
    ):
        first.setdefault(case_id, image_id)
    return first


def boxes_on_first_view(apps, schema_editor):
    FindingBox = apps.get_model("cases", "FindingBox")
    for case_id, image_id in first_views(apps).items():
        FindingBox.objects.filter(finding__case_id=case_id, image__isnull=True).update(
            image_id=image_id
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_case_comparison_image_projection"),
    ]

    operations = [
        migrations.AddField(
            model_name="findingbox",
            name="image",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="truth_boxes",
                to="cases.caseimage",
            ),
        ),
        migrations.RunPython(boxes_on_first_view, migrations.RunPython.noop, elidable=True),
    ]
