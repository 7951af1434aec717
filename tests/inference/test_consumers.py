from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.inference.consumers import JobStatusConsumer
from apps.inference.models import Job
from apps.inference.services import push_job_update

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(JobStatusConsumer.as_asgi(), "/ws/jobs/")
    communicator.scope["user"] = user
    return communicator


def test_anonymous_socket_is_closed() -> None:
    from django.contrib.auth.models import AnonymousUser

    async def run() -> tuple[bool, Any]:
        communicator = await connect(AnonymousUser())
        connected, code = await communicator.connect()
        return connected, code

    connected, code = async_to_sync(run)()
    assert not connected
    assert code == 4401


def test_pushes_reach_only_the_owner(make_user: Any) -> None:
    owner = make_user("owner")
    other = make_user("other")
    job = Job.objects.create(owner=owner, kind="ml.diagnostics.ping", request={})

    async def run() -> tuple[Any, bool]:
        mine = await connect(owner)
        theirs = await connect(other)
        assert (await mine.connect())[0]
        assert (await theirs.connect())[0]
        frame = {"type": "job", "job": str(job.pk), "status": "done"}
        await get_channel_layer().group_send(
            f"user-{owner.pk}", {"type": "job.update", "frame": frame}
        )
        received = await mine.receive_json_from(timeout=2)
        nothing = await theirs.receive_nothing(timeout=0.3)
        await mine.disconnect()
        await theirs.disconnect()
        return received, nothing

    received, nothing = async_to_sync(run)()
    assert received == {"type": "job", "job": str(job.pk), "status": "done"}
    assert nothing


def test_reconnect_gets_a_snapshot_of_recently_finished_jobs(make_user: Any) -> None:
    owner = make_user("owner")
    job = Job.objects.create(owner=owner, kind="ml.diagnostics.ping", request={}, status="done")
    push_job_update(job)  # nobody listening: the push is lost

    async def run() -> Any:
        communicator = await connect(owner)
        await communicator.connect()
        message = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        return message

    assert async_to_sync(run)() == {"type": "job", "job": str(job.pk), "status": "done"}


@pytest.mark.parametrize("frame", ["not json {", "[" * 5000, '{"type": "job"}'])
def test_anything_a_client_sends_is_ignored_and_the_socket_stays_up(
    make_user: Any, frame: str
) -> None:
    """A non-JSON frame used to raise inside the consumer and kill the socket."""
    owner = make_user("owner")
    job = Job.objects.create(owner=owner, kind="ml.diagnostics.ping", request={})

    async def run() -> Any:
        communicator = await connect(owner)
        assert (await communicator.connect())[0]
        await communicator.send_to(text_data=frame)
        await communicator.send_to(bytes_data=b"\xff\x00binary")
        frame_out = {"type": "job", "job": str(job.pk), "status": "done"}
        await get_channel_layer().group_send(
            f"user-{owner.pk}", {"type": "job.update", "frame": frame_out}
        )
        received = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        return received

    assert async_to_sync(run)() == {"type": "job", "job": str(job.pk), "status": "done"}


def test_a_sealed_job_is_neither_pushed_nor_in_the_snapshot_until_unsealed(
    make_user: Any,
) -> None:
    """An answer of an open assessment: its job's frames would tell the resident that (and
    when) feedback exists. Unsealing announces it."""
    from apps.inference.services import inference_jobs_unseal

    owner = make_user("owner")
    job = Job.objects.create(
        owner=owner, kind="ml.diagnostics.ping", request={}, status="done", sealed=True
    )

    async def listen(action: Any) -> list[Any]:
        communicator = await connect(owner)
        assert (await communicator.connect())[0]
        await action()
        frames = []
        while not await communicator.receive_nothing(timeout=0.3):
            frames.append(await communicator.receive_json_from())
        await communicator.disconnect()
        return frames

    async def push() -> None:
        from channels.db import database_sync_to_async

        await database_sync_to_async(push_job_update)(job)

    assert async_to_sync(listen)(push) == []  # no snapshot frame, no push

    async def unseal() -> None:
        from channels.db import database_sync_to_async

        await database_sync_to_async(inference_jobs_unseal)(job_ids=[job.pk])

    frames = async_to_sync(listen)(unseal)
    assert {"type": "job", "job": str(job.pk), "status": "done"} in frames
