"""Finding and reading cases: the scoped list, the search by number, the case page and its history.

The case page adapts to the reader. ``read_case`` decrypts only the categories ``case_access`` allows;
this module decides how the rest is shown: a placeholder for every category not disclosed, a banner
saying on what grounds a disclosed or emergency reader sees the case, and change links only for those
who may change it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from access.audit import record_event
from access.models import Membership
from cases.choices import STATUS_TRANSITIONS, CaseFlag, CaseStatus, InformationCategory
from cases.crypto import blind_index
from cases.forms import IdentitySearchForm, ReferenceSearchForm
from cases.models import Case, Disclosure, EmergencyAccess
from cases.permissions import CaseAccess
from cases.policy import access_case, access_case_with_rights
from cases.reading import CaseDetail, Contribution, read_summary_history
from cases.views.common import (
    PAGE_SIZE,
    AuthenticatedRequest,
    category_labels,
    read,
    require_casework,
    to_detail,
)

# Most recently active first; the reference breaks ties so pages never overlap.
LIST_ORDERING = ("-last_entry_on", "reference")


def _list_page(
    request: AuthenticatedRequest, *, reference_form: ReferenceSearchForm, not_found: bool = False
) -> HttpResponse:
    page = Case.objects.page_for(
        request.user, request.GET.get("sida"), ordering=LIST_ORDERING, per_page=PAGE_SIZE
    )
    context = {
        "page": page,
        "reference_form": reference_form,
        "identity_form": IdentitySearchForm(),
        "not_found": not_found,
    }
    return render(request, "cases/list.html", context)


@require_GET
@never_cache
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    """The user's cases, without names (a name needs an audited read)."""
    require_casework(request)
    return _list_page(request, reference_form=ReferenceSearchForm())


@require_POST
@never_cache
def open_reference(request: AuthenticatedRequest) -> HttpResponse:
    """The reference box. POST, like the number search: whatever is typed into it (a personnummer by
    mistake, say) never lands in a URL, the history or a log. A reference the user may not see is "not
    found" like any other; a personnummer is refused and not shown back."""
    require_casework(request)
    reference_form = ReferenceSearchForm(request.POST)
    if reference_form.is_valid():
        try:
            return to_detail(access_case(request.user, reference_form.cleaned_data["referens"]))
        except Http404:
            return _list_page(request, reference_form=reference_form, not_found=True)
    return _list_page(request, reference_form=reference_form)


@transaction.atomic
def _find_by_identity(request: AuthenticatedRequest, normalised: str, kind: str) -> list[Case]:
    """Only among the cases whose identity the user may already read (a recipient without the identity
    category, or of a case with a protected identity, gets "no hit", so a number is never linked to a
    case it could not see); the audit entry records the count, not the number."""
    hits = list(
        Case.objects.identity_visible_to(request.user)
        .filter(person__identity_index=blind_index(normalised))
        .select_related("agency", "responsible", "person")
        .order_by(*LIST_ORDERING)
    )
    # Which cases the result page showed (references identify no one), never the number searched for.
    record_event(
        "case.search",
        actor=request.user,
        request=request,
        details={"hits": len(hits), "kind": kind, "references": sorted(case.reference for case in hits)},
    )
    return hits


@require_POST
@sensitive_post_parameters()
@never_cache
def search(request: AuthenticatedRequest) -> HttpResponse:
    require_casework(request)
    form = IdentitySearchForm(request.POST)
    hits: list[Case] | None = None
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        hits = _find_by_identity(request, form.cleaned_data["normalised"], kind)
        # A fresh form: the number is not echoed back into the page, which the browser may keep.
        form = IdentitySearchForm(initial={"kind": kind})
    context = {"identity_form": form, "reference_form": ReferenceSearchForm(), "hits": hits}
    return render(request, "cases/search.html", context)


# --- One case ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedDisclosure:
    """What a recipient is told about a disclosure to its agency: never the justification."""

    basis: str
    categories: list[str]
    valid_until: datetime.date | None


def _received_disclosures(access: CaseAccess) -> list[ReceivedDisclosure]:
    if access.via != "disclosure" or access.membership is None:
        return []
    in_force = Disclosure.objects.active().filter(case=access.case, recipient=access.membership.agency)
    return [
        ReceivedDisclosure(
            basis=disclosure.get_legal_basis_display(),
            categories=category_labels(disclosure.categories),
            valid_until=disclosure.valid_until,
        )
        for disclosure in in_force.order_by("created_at")
    ]


def _emergency_in_force(request: AuthenticatedRequest, case: Case) -> EmergencyAccess | None:
    return (
        EmergencyAccess.objects.active().filter(case=case, user=request.user).order_by("-expires_at").first()
    )


def _own_contribution(detail: CaseDetail) -> Contribution | None:
    access = detail.access
    if access is None or access.membership is None:
        return None
    agency_id = access.membership.agency_id
    return next((item for item in detail.contributions if item.agency.pk == agency_id), None)


def _shown_sections(detail: CaseDetail) -> dict[str, bool]:
    """``{"identity": True, "risk": False, ...}``: which parts of the page the reader gets."""
    return {category.name.lower(): detail.sees(category.value) for category in InformationCategory}


@require_GET
@never_cache
def case_detail(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    access = access_case_with_rights(request.user, reference)
    case = access.case
    membership = access.membership
    emergency = _emergency_in_force(request, case) if access.via == "emergency" else None
    if emergency is not None:
        # The read is audited as made through the agency the emergency access was requested for.
        membership = Membership.objects.active().filter(user=request.user, agency=emergency.agency_id).first()
    detail = read(request, case, membership)
    # What was decrypted is what detail.access allowed; the page follows that, not an earlier answer.
    shown_access = detail.access or access
    transitions = [status for status in CaseStatus if status in STATUS_TRANSITIONS[case.status]]
    flags = [flag for flag in CaseFlag.values if flag in detail.classification.effective_flags()]
    emergency_ends_at = emergency.expires_at if emergency is not None else None
    given = []
    if shown_access.is_owner:
        given = list(Disclosure.objects.active().filter(case=case).select_related("recipient"))
    context = {
        "case": case,
        "detail": detail,
        "access": shown_access,
        "can_write": shown_access.can_write,
        "can_contribute": shown_access.can_contribute,
        "shows": _shown_sections(detail),
        "identity_is_protected": case.person.has_protected_identity and not shown_access.is_owner,
        "own_contribution": _own_contribution(detail),
        "received": _received_disclosures(shown_access),
        "received_categories": category_labels(shown_access.categories),
        "emergency_ends_at": emergency_ends_at,
        "given": given,
        "transitions": transitions,
        "flags": flags,
    }
    return render(request, "cases/detail.html", context)


@require_GET
@never_cache
def summary_history(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    access = access_case_with_rights(request.user, reference)
    history = read_summary_history(
        access.case, user=request.user, membership=access.membership, request=request
    )
    return render(request, "cases/summary_history.html", {"case": access.case, "history": history})
