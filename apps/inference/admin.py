from django.contrib import admin

from .models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "subject",
        "owner",
        "status",
        "attempts",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("subject",)
    readonly_fields = ("request", "result", "error", "attempts", "sent_at", "finished_at")
