from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access.models import CASEWORK_ROLES, Membership, Role, User
from cases.models import Case, Disclosure
from cases.views.emergency import emergency_accesses_for_review


def start(request: HttpRequest) -> HttpResponse:
    """The start page: one section for each role the user holds, in any of their agencies."""
    memberships = list(Membership.objects.active().filter(user=request.user.pk).select_related("agency"))
    roles = {membership.role for membership in memberships}
    is_caseworker = bool(roles & {Role.HANDLAGGARE, Role.SAMORDNARE})
    my_cases: list[str] = []
    disclosed_cases: list[str] = []
    if is_caseworker and isinstance(request.user, User):
        # References only: a name on the start page would be a read of personal data nobody asked for.
        my_cases = list(
            Case.objects.visible_to(request.user)
            .open()
            .filter(responsible=request.user)
            .order_by("-last_entry_on", "reference")
            .values_list("reference", flat=True)
        )
        casework_agencies = [m.agency_id for m in memberships if m.role in CASEWORK_ROLES]
        in_force = Disclosure.objects.active().filter(case=OuterRef("pk"), recipient__in=casework_agencies)
        disclosed_cases = list(
            Case.objects.visible_to(request.user)
            .exclude(agency__in=casework_agencies)
            .filter(Exists(in_force))
            .order_by("reference")
            .values_list("reference", flat=True)
        )
    auditor_memberships = [membership for membership in memberships if membership.role == Role.GRANSKARE]
    awaiting_review = (
        emergency_accesses_for_review(auditor_memberships).awaiting_review().count()
        if auditor_memberships
        else 0
    )
    context = {
        "memberships": memberships,
        "my_cases": my_cases,
        "disclosed_cases": disclosed_cases,
        "awaiting_review": awaiting_review,
        "is_caseworker": is_caseworker,
        "is_coordinator": Role.SAMORDNARE in roles,
        "is_manager": Role.CHEF in roles,
        "is_auditor": Role.GRANSKARE in roles,
        "is_administrator": Role.SYSTEMADMINISTRATOR in roles,
    }
    return render(request, "coordination/start.html", context)
