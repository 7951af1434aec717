"""Websocket: pushes job updates to the owner's open pages. The database stays the truth."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from apps.accounts.sessions import session_expired

from .models import FINAL_STATUSES, Job
from .public import PUBLIC_MODEL_FIELDS, JobFrame, job_frame, job_public
from .services import user_group

SNAPSHOT_WINDOW = timedelta(minutes=10)


class JobStatusConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        # Past the login's absolute maximum (the session may read the database: off the loop).
        if await database_sync_to_async(session_expired)(self.scope.get("session")):
            await self.close(code=4401)
            return
        # The group comes from the session's user, never from anything the client sends.
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Pushes sent while this page was offline are gone: send what changed recently.
        for frame in await self._snapshot(user.pk):
            await self.send_json(frame)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Clients only listen: whatever they send (JSON or not, text or bytes) is ignored before
        # any decoding, so a malformed frame cannot raise here and drop the socket.
        return None

    async def job_update(self, event: dict[str, Any]) -> None:
        # Only the frame's own keys go out, whatever else an event might carry.
        frame = event["frame"]
        await self.send_json({key: frame[key] for key in JobFrame.__annotations__})

    async def session_end(self, event: dict[str, Any]) -> None:
        # The user was deactivated or changed the password
        # (services.close_sockets_of_ended_sessions).
        await self.close(code=4403)

    @database_sync_to_async
    def _snapshot(self, user_id: int) -> list[JobFrame]:
        since = timezone.now() - SNAPSHOT_WINDOW
        jobs = Job.objects.filter(
            owner_id=user_id, sealed=False, updated_at__gte=since, status__in=FINAL_STATUSES
        ).only(*PUBLIC_MODEL_FIELDS)
        return [job_frame(job_public(job, include_result=False)) for job in jobs]
