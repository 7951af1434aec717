"""How the facts of a case read to a resident: a fact that the de-identification removed whole reads
"not given", a word removed inside a sentence reads "[removed]" (so "There are no XXXX of a pleural
effusion" does not turn into "There are no not given of ..."), and the comparison is stated plainly
(none, not stated, or a prior that is not shown)."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString

from apps.cases import view_names

register = template.Library()

# IU X-ray / Open-i write every removed word as "XXXX"; runs such as "XXXX, XXXX" are one gap.
MASK = re.compile(r"\bX{3,}\b(?:[ ,]+\bX{3,}\b)*")
NOT_GIVEN = "not given"
REMOVED = "[removed]"
_NO_PRIOR = re.compile(r"^\s*(none|no prior|no prior studies?|no comparison)\.?\s*$", re.IGNORECASE)


def _gap(words: str) -> SafeString:
    return format_html(
        '<span class="masked" title="Removed by de-identification in the source">{}</span>',
        words,
    )


@register.filter
def unmasked(value: Any) -> SafeString:
    """A fact, escaped: one that is only masks (or empty) reads "not given"; a mask inside it
    reads "[removed]"."""
    text = str(value or "")
    if not MASK.sub("", text).strip(" ,.;:"):
        return _gap(NOT_GIVEN)
    return masks_marked(text)


@register.filter
def masks_marked(value: Any) -> SafeString:
    """Running text (a report, a piece of one, a quote in feedback), escaped, each mask shown as
    "[removed]"."""
    text = str(value or "")
    parts: list[str] = []
    last = 0
    for match in MASK.finditer(text):
        parts.append(conditional_escape(text[last : match.start()]))
        parts.append(_gap(REMOVED))
        last = match.end()
    parts.append(conditional_escape(text[last:]))
    # format_html_join escapes whatever is not already safe: no mark_safe to audit.
    return format_html_join("", "{}", ((part,) for part in parts))


@register.filter
def comparison_kind(value: Any) -> str:
    """The comparison as "" (not stated), "none" (no prior study) or "prior" (a prior exists
    but is not shown)."""
    text = str(value or "").strip()
    if not text:
        return ""
    return "none" if _NO_PRIOR.match(text) else "prior"


@register.filter
def named_views(images: Any) -> list[tuple[Any, str]]:
    """A case's views (its images, in order) with their names: ``{% for image, name in
    case.images.all|named_views %}`` (see ``apps.cases.view_names``)."""
    return view_names.named_views(images)
