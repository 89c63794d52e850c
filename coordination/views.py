from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access.models import Membership, Role


def start(request: HttpRequest) -> HttpResponse:
    """The start page: one section for each role the user holds, in any of their agencies."""
    memberships = list(Membership.objects.active().filter(user=request.user.pk).select_related("agency"))
    roles = {membership.role for membership in memberships}
    context = {
        "memberships": memberships,
        "is_caseworker": bool(roles & {Role.HANDLAGGARE, Role.SAMORDNARE}),
        "is_coordinator": Role.SAMORDNARE in roles,
        "is_manager": Role.CHEF in roles,
        "is_auditor": Role.GRANSKARE in roles,
        "is_administrator": Role.SYSTEMADMINISTRATOR in roles,
    }
    return render(request, "coordination/start.html", context)
