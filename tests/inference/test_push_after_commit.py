"""R11: no websocket push before the commit of what it announces.

A page that gets a push refetches the job; pushed before the commit, it would read the old row.
The code has two pushes (``push_job_update`` and ``push_session_end``, the only ``group_send``
calls); every call of them must run as a ``transaction.on_commit`` callback. Checked twice: by reading the code (a new push site, or a
direct call, fails the test) and by running each service that pushes inside a transaction with
the channel layer recording: nothing is sent until the commit callbacks run.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.inference import services
from apps.inference.models import Job, JobStatus

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PUSHES = ("push_job_update", "push_session_end")


def code() -> Iterator[tuple[Path, ast.Module]]:
    for folder in ("apps", "radgame", "ml"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def ancestors(tree: ast.Module) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def chain(node: ast.AST, parent_of: dict[ast.AST, ast.AST]) -> Iterator[ast.AST]:
    while node in parent_of:
        node = parent_of[node]
        yield node


def is_on_commit(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "on_commit"
    )


def test_the_pushes_are_only_ever_called_on_commit() -> None:
    senders, direct = [], []
    for path, tree in code():
        parent_of = ancestors(tree)
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "group_send":
                function = next(
                    (a.name for a in chain(node, parent_of) if isinstance(a, ast.FunctionDef)),
                    None,
                )
                senders.append(f"{where}:{function}")
            pushes = isinstance(node, ast.Name) and node.id in PUSHES
            if pushes and not any(is_on_commit(a) for a in chain(node, parent_of)):
                direct.append(f"{where}:{node.lineno}")
    assert sorted(senders) == [f"apps/inference/services.py:{push}" for push in PUSHES]
    assert not direct, f"pushes called outside transaction.on_commit: {direct}"


class RecordingLayer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch: pytest.MonkeyPatch) -> RecordingLayer:
    recording = RecordingLayer()
    monkeypatch.setattr(services, "get_channel_layer", lambda: recording)
    return recording


def finish(job: Job) -> None:
    services.inference_job_finish(job_id=job.pk, status=JobStatus.DONE, result={}, error="")


def unseal(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, sealed=True)
    services.inference_jobs_unseal(job_ids=[job.pk])


def progress(job: Job) -> None:
    services.inference_job_progress(job=job, done=1, total=2, message="half way")


def deactivate(job: Job) -> None:
    job.owner.is_active = False
    job.owner.save()


def change_password(job: Job) -> None:
    job.owner.set_password("a-new-Passphrase-9")
    job.owner.save()


@pytest.mark.parametrize(
    "site", [finish, unseal, progress, deactivate, change_password], ids=lambda f: f.__name__
)
def test_each_push_waits_for_the_commit(
    site: Callable[[Job], None],
    layer: RecordingLayer,
    make_user: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = make_user("pushed")
    job = Job.objects.create(owner=owner, kind="ml.diagnostics.ping", request={})
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SENT)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        site(job)
    assert layer.sent == []  # the transaction has not committed: nothing pushed
    for callback in callbacks:
        callback()
    assert [group for group, _ in layer.sent] == [services.user_group(owner.pk)]
    message = layer.sent[0][1]
    assert message.get("frame", {"job": str(job.pk)})["job"] == str(job.pk)
