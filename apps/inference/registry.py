"""Completion hooks: the app that asked for a job stores its result, inside the finishing transaction.

``inference`` knows no exercise kind; apps above it register a callback per task name in their
``AppConfig.ready``. A hook runs exactly once per job because the job is finished by a conditional
update in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Job

CompletionHook = Callable[[Job], None]
_hooks: dict[str, list[CompletionHook]] = {}


def on_job_finished(kind: str, hook: CompletionHook) -> None:
    hooks = _hooks.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def hooks_for(kind: str) -> list[CompletionHook]:
    return list(_hooks.get(kind, []))
