"""The Django admin: for superusers only, and no way around the administration views from it.

A municipality's systemadministratör works in the project's own views (access/administration.py), where
every action is audited and role grants need a second person. The Django admin is what an operator
with a superuser made at the command line sees, and even there: no TOTP key is shown or set, no
password is set for someone else, no membership is made, changed or deleted (those need two people),
nothing is deleted (deactivate instead), and staff and superuser status are not edited here.
"""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, Membership, User


def superuser_only(request: HttpRequest) -> bool:
    """AdminSite.has_permission: an active superuser. ``is_staff`` alone opens nothing."""
    user = request.user
    return bool(user.is_active and user.is_superuser)


admin.site.has_permission = superuser_only  # type: ignore[method-assign]


class ReadOnlyMembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("agency", "role", "confirmed_at", "ended_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    inlines = [ReadOnlyMembershipInline]
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    search_fields = ["username", "first_name", "last_name", "email"]
    # No groups or single permissions: an agency's group carries its case grants (access/groups.py), so
    # access to cases follows memberships and disclosures only, never a box ticked here. No password:
    # a login is reset through the administration views, by two people, with an enrolment link.
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Personuppgifter"), {"fields": ("first_name", "last_name", "email")}),
        (_("Behörighet"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Viktiga datum"), {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # new users get an enrolment link: the administration views

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a leaver is deactivated; the trail keeps naming them

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        raise Http404


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin[Agency]):
    list_display = ["name", "code", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an agency that closes is made inactive


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "agency", "role", "created_at", "confirmed_at", "ended_at"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "agency__name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The audit trail is read in the granskare's views (access/compliance), never in the admin: django-auditlog
# registers its entries there (auditlog comes before access in INSTALLED_APPS, so it is already in place).
admin.site.unregister(LogEntry)
# django-otp's TOTP admin shows every key and its QR code and lets one add a confirmed device with a key
# of one's choosing; authenticators are bound only through an enrolment link.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
# The groups are derived from memberships (access/groups.py) and carry case grants.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
