"""Undo cohort takeovers made before co-educators had to be added by the owner.

Until this change an educator who used a resident join code or invitation link became a managing
member. No other path ever created an educator membership besides the owner's own, so every
non-owner educator membership came from a code or link: it is removed, together with the open
invitations its holder minted. The owner re-adds real co-educators on the cohort page.
"""

from django.db import migrations
from django.db.models import F
from django.utils import timezone


def drop_self_made_coeducators(apps, schema_editor):
    Membership = apps.get_model("cohorts", "Membership")
    Invitation = apps.get_model("cohorts", "Invitation")
    taken = Membership.objects.filter(role="educator").exclude(user_id=F("cohort__owner_id"))
    now = timezone.now()
    for cohort_id, user_id in taken.values_list("cohort_id", "user_id"):
        Invitation.objects.filter(
            cohort_id=cohort_id, created_by_id=user_id, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
    taken.delete()


class Migration(migrations.Migration):
    dependencies = [("cohorts", "0001_initial")]

    operations = [migrations.RunPython(drop_self_made_coeducators, migrations.RunPython.noop)]
