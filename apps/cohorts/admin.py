from django.contrib import admin

from .models import Cohort, Invitation, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "join_code", "join_code_enabled", "created_at")
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("cohort", "email", "created_by", "expires_at", "used_by", "revoked_at")
