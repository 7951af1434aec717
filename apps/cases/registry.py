"""Callbacks run when a case is published or its ground truth is replaced, registered by apps
above ``cases`` in their ready().

Localization uses the first to precompute explanations of every ground-truth finding, so feedback
is instant, and the second to re-score the attempts residents already made on the case; Report
re-scores its attempts when the reference report's scored text changes (the third).
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


# (case, actor): the actor is the educator who edited, or None for an importer. A hook that starts
# work the editor should follow (a job with progress) appends it to ``case.followups``.
TruthHook = Callable[[Any, Any], None]
_truth_hooks: list[TruthHook] = []


def on_truth_changed(hook: TruthHook) -> None:
    if hook not in _truth_hooks:
        _truth_hooks.append(hook)


def truth_changed_hooks() -> list[TruthHook]:
    return list(_truth_hooks)


# (case, actor) after the reference report's scored part (its findings section, or whether it was
# derived from labels) changed; same contract as ``on_truth_changed``.
_report_hooks: list[TruthHook] = []


def on_report_changed(hook: TruthHook) -> None:
    if hook not in _report_hooks:
        _report_hooks.append(hook)


def report_changed_hooks() -> list[TruthHook]:
    return list(_report_hooks)
