from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from access.models import Agency, Membership, User


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 0
    autocomplete_fields = ["agency"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    search_fields = ["username", "first_name", "last_name", "email"]
    # No groups or single permissions: an agency's group carries its case grants (access/groups.py), so
    # access to cases follows memberships and disclosures only, never a box ticked here.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personuppgifter"), {"fields": ("first_name", "last_name", "email")}),
        (_("Behörighet"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Viktiga datum"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin[Agency]):
    list_display = ["name", "code", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "agency", "role", "created_at"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "agency__name"]
    autocomplete_fields = ["user", "agency"]


# The audit trail is read in the granskare's views (access/compliance), never in the admin: django-auditlog
# registers its entries there (auditlog comes before access in INSTALLED_APPS, so it is already in place).
admin.site.unregister(LogEntry)
