"""The one door to a case. Every view that shows or changes a case fetches it here.

``access_case`` answers Http404 alike for a reference that does not exist and for a case the user may
not see, so a reference cannot be probed; a user who may see but not change a case gets 403 on a
write. tests/test_consistency.py fails if a view fetches cases any other way.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from access.models import CASEWORK_ROLES, Membership, User
from cases.models import Case
from cases.permissions import CaseAccess, case_access


def access_case_with_rights(user: User, reference: str, *, for_write: bool = False) -> CaseAccess:
    case = (
        Case.objects.visible_to(user)
        .select_related("agency", "person", "responsible")
        .filter(reference=reference.strip().upper())
        .first()
    )
    access = case_access(user, case) if case is not None else None
    if access is None:
        raise Http404("Ärendet finns inte.")
    if for_write and not access.can_write:
        raise PermissionDenied
    return access


def access_case(user: User, reference: str, *, for_write: bool = False) -> Case:
    return access_case_with_rights(user, reference, for_write=for_write).case


def acting_membership(user: User, case: Case) -> Membership | None:
    """The membership through which ``user`` works on ``case``: the owning agency's casework, or the
    recipient agency of a disclosure in force."""
    access = case_access(user, case)
    return access.membership if access is not None else None


def casework_memberships(user: User) -> list[Membership]:
    """The agencies in which ``user`` may open cases."""
    return list(
        Membership.objects.active().select_related("agency").filter(user=user, role__in=CASEWORK_ROLES)
    )
