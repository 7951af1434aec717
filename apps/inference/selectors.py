from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from apps.accounts.permissions import is_admin

from .models import Job


def job_get(*, actor: Any, job_id: Any) -> Job:
    """A job is visible to its owner (and admins); anyone else gets a 404, not a 403. A sealed job
    (an answer of an open assessment) is a 404 to its owner too, until it is unsealed."""
    queryset: QuerySet[Job] = Job.objects.all()
    if not is_admin(actor):
        queryset = queryset.filter(owner=actor, sealed=False)
    try:
        return queryset.get(pk=job_id)
    except (Job.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job") from None
