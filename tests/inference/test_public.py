"""Job requests carry reference texts and ground-truth boxes: nothing public is built from them."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from apps.inference.consumers import JobStatusConsumer
from apps.inference.models import Job
from apps.inference.public import PUBLIC_JOB_FIELDS, PublicJob, job_frame, job_public
from apps.inference.services import inference_job_finish, push_job_update

CANARY = "GTCANARY-4f1c"
CANARY_COORD = 0.123457
SECRET_REQUEST = {
    "reference": {
        "findings": [{"label": CANARY, "regions": [[[CANARY_COORD, 0.2, 0.5, 0.6]]]}],
        "report": f"Reference report {CANARY}",
    },
    "marks": {"boxes": []},
}


def _leaks(blob: bytes | str) -> bool:
    text = blob.decode() if isinstance(blob, bytes) else blob
    return CANARY in text or str(CANARY_COORD) in text


def test_the_public_view_is_an_allow_list_without_the_request() -> None:
    # Adding a field here is a decision: it must be made in this list too.
    assert PUBLIC_JOB_FIELDS == (
        "id",
        "kind",
        "status",
        "status_display",
        "is_final",
        "attempts",
        "error",
        "progress",
        "result",
        "created_at",
        "finished_at",
    )
    assert "request" not in {f.name for f in fields(PublicJob)}


@pytest.mark.django_db
def test_result_only_when_done_and_wanted(resident: Any) -> None:
    job = Job.objects.create(owner=resident, kind="ml.diagnostics.ping", request=SECRET_REQUEST)
    job.result = {"partial": CANARY}  # a worker's half-written result is not shown
    assert job_public(job).result is None
    job.status = "done"
    assert job_public(job).result == {"partial": CANARY}
    assert job_public(job, include_result=False).result is None
    assert job_frame(job_public(job)) == {"type": "job", "job": str(job.pk), "status": "done"}


@pytest.mark.django_db
def test_no_request_canary_in_api_or_page(client_for: Any, resident: Any) -> None:
    job = Job.objects.create(owner=resident, kind="ml.diagnostics.ping", request=SECRET_REQUEST)
    inference_job_finish(job_id=job.pk, status="done", result={"pong": True}, error="")
    client = client_for(resident)
    api = client.get(reverse("api-job-detail", args=[job.pk]))
    page = client.get(reverse("inference:status", args=[job.pk]))
    partial = client.get(reverse("inference:status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert api.status_code == page.status_code == 200
    assert api.json()["result"] == {"pong": True}
    for response in (api, page, partial):
        assert not _leaks(response.content)


@pytest.mark.django_db(transaction=True)
def test_no_request_canary_in_websocket_frames(make_user: Any) -> None:
    owner = make_user("owner")
    job = Job.objects.create(
        owner=owner, kind="ml.diagnostics.ping", request=SECRET_REQUEST, status="done"
    )

    async def run() -> list[Any]:
        communicator = WebsocketCommunicator(JobStatusConsumer.as_asgi(), "/ws/jobs/")
        communicator.scope["user"] = owner
        assert (await communicator.connect())[0]
        snapshot = await communicator.receive_json_from(timeout=2)
        await database_push(job)
        pushed = await communicator.receive_json_from(timeout=2)
        # Even an event carrying more than a frame sends only the frame's keys.
        await get_channel_layer().group_send(
            f"user-{owner.pk}",
            {
                "type": "job.update",
                "frame": {"type": "job", "job": str(job.pk), "status": "done", "x": CANARY},
            },
        )
        forged = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        return [snapshot, pushed, forged]

    from channels.db import database_sync_to_async

    database_push = database_sync_to_async(push_job_update)
    frames = async_to_sync(run)()
    expected = {"type": "job", "job": str(job.pk), "status": "done"}
    assert frames == [expected, expected, expected]
    assert not _leaks(json.dumps(frames))
