"""What every case page shares: the request type, the casework gate and the way back to a case."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from access.models import Membership, Role, User
from cases.choices import InformationCategory
from cases.models import Case
from cases.policy import access_case_with_rights, casework_memberships
from cases.reading import CaseDetail, read_case

PAGE_SIZE = 25
FORM_METHODS = ["GET", "POST"]


class AuthenticatedRequest(HttpRequest):
    # For the type checker: LoginRequiredMiddleware lets no anonymous request reach these views.
    user: User


def require_casework(request: AuthenticatedRequest) -> list[Membership]:
    """Managers, auditors and administrators never see cases: for them the case pages do not exist."""
    memberships = casework_memberships(request.user)
    if not memberships:
        raise Http404
    return memberships


def require_casework_or_forbid(request: AuthenticatedRequest) -> list[Membership]:
    """For pages that are not about one case (emergency access): a refusal, not a pretended absence."""
    memberships = casework_memberships(request.user)
    if not memberships:
        raise PermissionDenied
    return memberships


def auditor_memberships(user: User) -> list[Membership]:
    return list(Membership.objects.active().select_related("agency").filter(user=user, role=Role.GRANSKARE))


def access_for_writing(request: AuthenticatedRequest, reference: str) -> tuple[Case, Membership]:
    """The owning agency's caseworkers only: 404 to those who may not see the case, 403 to readers
    (a disclosed-to agency or an emergency access)."""
    access = access_case_with_rights(request.user, reference, for_write=True)
    if access.membership is None:  # for_write refuses this already; the type checker can't know
        raise PermissionDenied
    return access.case, access.membership


def read(request: AuthenticatedRequest, case: Case, membership: Membership | None) -> CaseDetail:
    return read_case(case, user=request.user, membership=membership, request=request)


def category_labels(codes: list[str] | frozenset[str]) -> list[str]:
    """Information categories' labels, in the vocabulary's order."""
    return [str(category.label) for category in InformationCategory if category.value in codes]


def to_detail(case: Case) -> HttpResponse:
    return redirect("cases:detail", reference=case.reference)
