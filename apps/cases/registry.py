"""Callbacks run when a case is published, registered by apps above ``cases`` in their ready().

Localization uses it to precompute explanations of every ground-truth finding, so feedback is
instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PublishHook = Callable[[Any], None]
_publish_hooks: list[PublishHook] = []


def on_case_published(hook: PublishHook) -> None:
    if hook not in _publish_hooks:
        _publish_hooks.append(hook)


def publish_hooks() -> list[PublishHook]:
    return list(_publish_hooks)
