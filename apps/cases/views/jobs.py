"""Helpers for pages that watch a case-library job."""

from __future__ import annotations

from django.http import Http404

from apps.inference.models import Job


def job_of_kind(job: Job, kind: str) -> Job:
    """A job page shows only its own kind: an import id pasted into the upload URL is a 404."""
    if job.kind != kind:
        raise Http404("No such job")
    return job
