"""Completion hooks: the app that asked for a job stores its result, inside the finishing transaction.

``inference`` knows no exercise kind; apps above it register a callback per task name in their
``AppConfig.ready``. A hook runs exactly once per job because the job is finished by a conditional
update in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Job

CompletionHook = Callable[[Job], None]
# A web job runs inside Django (a web worker, or in-process): it gets the Job and returns the result,
# or None when it sent jobs of its own and the last of them to finish finishes it (a bulk re-score:
# apps.exercises.rescore); its progress keeps its lease (services.inference_job_progress).
WebJobHandler = Callable[[Job], dict | None]
_hooks: dict[str, list[CompletionHook]] = {}
_web_handlers: dict[str, WebJobHandler] = {}

# Web job kinds live beside ml's task names but are prefixed so the two never collide.
WEB_KIND_PREFIX = "web."


def register_web_job(kind: str, handler: WebJobHandler) -> None:
    if not kind.startswith(WEB_KIND_PREFIX):
        raise ValueError(f"web job kinds start with {WEB_KIND_PREFIX!r}: {kind!r}")
    _web_handlers[kind] = handler


def web_handler_for(kind: str) -> WebJobHandler | None:
    return _web_handlers.get(kind)


def on_job_finished(kind: str, hook: CompletionHook) -> None:
    hooks = _hooks.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def hooks_for(kind: str) -> list[CompletionHook]:
    return list(_hooks.get(kind, []))
