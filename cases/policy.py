"""The one door to a case. Every view that shows or changes a case fetches it here.

``access_case`` answers Http404 alike for a reference that does not exist and for a case the user may
not see, so a reference cannot be probed. tests/test_consistency.py fails if a view fetches cases any
other way.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from access.models import CASEWORK_ROLES, Membership, User
from cases.models import Case


def access_case(user: User, reference: str, *, for_write: bool = False) -> Case:
    case = (
        Case.objects.visible_to(user)
        .select_related("agency", "person", "responsible")
        .filter(reference=reference.strip().upper())
        .first()
    )
    if case is None:
        raise Http404("Ärendet finns inte.")
    if for_write and acting_membership(user, case) is None:
        raise PermissionDenied
    return case


def acting_membership(user: User, case: Case) -> Membership | None:
    """The membership through which ``user`` works on ``case``: casework in the owning agency."""
    return (
        Membership.objects.active()
        .select_related("agency")
        .filter(user=user, agency=case.agency_id, role__in=CASEWORK_ROLES)
        .order_by("role")
        .first()
    )


def casework_memberships(user: User) -> list[Membership]:
    """The agencies in which ``user`` may open cases."""
    return list(
        Membership.objects.active().select_related("agency").filter(user=user, role__in=CASEWORK_ROLES)
    )
