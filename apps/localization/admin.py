"""Read-only admin views: attempts are the record of a scored answer and are never edited by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import Explanation, LocalizationAttempt, Mark


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class MarkInline(admin.TabularInline):
    model = Mark
    extra = 0
    can_delete = False
    fields = ("index", "label", "selected", "x1", "y1", "x2", "y2", "confidence")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(LocalizationAttempt)
class LocalizationAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "case",
        "case_set",
        "attempt_no",
        "score",
        "post_reveal",
        "submitted_at",
    )
    list_filter = ("post_reveal", "scorer_version")
    search_fields = ("user__username", "case__title")
    inlines = [MarkInline]


@admin.register(Explanation)
class ExplanationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "case",
        "finding",
        "attempt",
        "item",
        "error",
        "label",
        "backend",
        "model_id",
    )
    list_filter = ("error", "backend", "prompt_version")
    search_fields = ("label", "model_id")
