"""Nödåtkomst (break-the-glass) and its review.

A caseworker finds a case by an exact reference or an exact number, never by a list or a partial
match, and every search is audited (without the number). A case found is shown by reference and owning
agency only until the user states a reason; the access is then read-only and time-limited, and lands in
the review queue of the granskare of the agencies involved. The granskare reads the reasons (an audited
read) but never the case.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.audit import hold_append_lock, record_event
from access.models import AuditEvent, Membership, User
from cases.actions import CaseActionError
from cases.models import Case, EmergencyAccess, EmergencyAccessQuerySet
from cases.permissions import case_access
from cases.records import _Redacted
from cases.sharing import (
    consent_refusals,
    do_request_emergency_access,
    do_review_emergency_access,
    find_for_emergency,
)
from cases.sharing_forms import EmergencyRequestForm, EmergencyReviewForm, EmergencySearchForm
from cases.vault import CaseVault
from cases.views.common import (
    FORM_METHODS,
    PAGE_SIZE,
    AuthenticatedRequest,
    auditor_memberships,
    require_casework_or_forbid,
    to_detail,
)

# The reference the user's last audited search found: a request must follow such a search, so nobody
# can learn a case's owning agency by posting references to the request view.
FOUND_SESSION_KEY = "emergency_found"


# --- Searching and requesting -------------------------------------------------------------------------


@transaction.atomic
def _search(request: AuthenticatedRequest, membership: Membership, data: dict[str, Any]) -> Case | None:
    """Find the case and record the search: whether something was found, by what kind of key, and the
    reference found. Never the number."""
    if data["reference"]:
        case = find_for_emergency(reference=data["reference"])
        withheld = ""
    else:
        case, withheld = _find_by_number(request.user, data["normalised"])
    details: dict[str, Any] = {
        "found": case is not None and not withheld,
        "kind": "referens" if data["reference"] else data["kind"],
    }
    if withheld:
        # Answered as "not found"; the owner's granskare still sees that the number was searched.
        details["withheld"] = withheld
    record_event(
        "case.emergency_search",
        actor=request.user,
        membership=membership,
        request=request,
        object_type="case" if case else "",
        object_reference=case.reference if case else "",
        object_agency=case.agency.code if case else "",
        details=details,
    )
    return None if withheld else case


def _throttled(request: AuthenticatedRequest, membership: Membership) -> bool:
    """True, and audited, when the user has used up the hour's emergency searches. Counted from the
    trail itself (indexed by actor), so no other store can drift from what the granskare sees; the
    caller holds the append lock from the count to the search's own event, so parallel searches
    cannot all slip under the limit."""
    since = timezone.now() - datetime.timedelta(hours=1)
    used = AuditEvent.objects.filter(
        actor=request.user, action="case.emergency_search", occurred_at__gte=since
    ).count()
    if used < settings.EMERGENCY_SEARCHES_PER_HOUR:
        return False
    record_event(
        "case.emergency_search_throttled",
        actor=request.user,
        membership=membership,
        request=request,
        details={"searches_last_hour": used, "limit": settings.EMERGENCY_SEARCHES_PER_HOUR},
    )
    return True


def _find_by_number(user: User, number: str) -> tuple[Case | None, str]:
    """The case an emergency search by number finds, and why it is answered as "not found" ("" when it
    is not withheld).

    A number links to a case only for someone who may read its identity: a recipient holding the case
    without the identity category would otherwise learn whose case it is, and a protected identity
    (skyddade personuppgifter) is never tied to a case and an agency by number outside the owning
    agency. Such a case is still found by its reference, which identifies no one.

    A miss and a withheld case cost the same two queries: the search among what the user may find by
    number (``Case.objects.findable_by_number``), then the same number among every case, whose answer
    only goes to the owner's granskare through the audit event (what was searched, never the number).
    """
    case = find_for_emergency(identity_number=number, among=Case.objects.findable_by_number(user))
    if case is not None:
        return case, ""
    hidden = find_for_emergency(identity_number=number)
    if hidden is None:
        return None, ""
    return hidden, "protected" if hidden.person.has_protected_identity else "no_identity"


@transaction.atomic
def _record_refusal_shown(request: AuthenticatedRequest, membership: Membership, case: Case) -> None:
    """The requester has now learnt that the person refused their agency: the owner's granskare sees it."""
    record_event(
        "case.emergency_refusal_shown",
        actor=request.user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
    )


def _request_page(request: AuthenticatedRequest, case: Case, form: EmergencyRequestForm) -> HttpResponse:
    # The reference only: the owning agency and the case itself stay closed until the reason is given.
    context = {"found": case, "form": form, "emergency_minutes": settings.EMERGENCY_ACCESS_MINUTES}
    return render(request, "cases/emergency_request.html", context)


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def emergency_search(request: AuthenticatedRequest) -> HttpResponse:
    memberships = require_casework_or_forbid(request)
    form = EmergencySearchForm(request.POST if request.method == "POST" else None)
    not_found = False
    if form.is_bound and form.is_valid():
        return _counted_search(request, memberships, form)
    return render(request, "cases/emergency_search.html", {"form": form, "not_found": not_found})


@transaction.atomic
def _counted_search(
    request: AuthenticatedRequest, memberships: list[Membership], form: EmergencySearchForm
) -> HttpResponse:
    hold_append_lock()
    not_found = False
    if _throttled(request, memberships[0]):
        messages.error(
            request,
            _(
                "Du har gjort %(limit)d sökningar efter nödåtkomst den senaste timmen, vilket är gränsen. "
                "Försöket har loggats och visas för granskaren. Kontakta ärendets ägare direkt vid fara."
            )
            % {"limit": settings.EMERGENCY_SEARCHES_PER_HOUR},
        )
        form = EmergencySearchForm(initial={"kind": form.cleaned_data["kind"]})
    else:
        case = _search(request, memberships[0], form.cleaned_data)
        if case is not None and case_access(request.user, case) is not None:
            return to_detail(case)
        if case is not None:
            request.session[FOUND_SESSION_KEY] = case.reference
            # The person's refusal is shown only once a reason is given (emergency_request): a search
            # alone must not tell someone that the person refused their agency.
            request_form = EmergencyRequestForm(
                initial={"reference": case.reference}, memberships=memberships
            )
            return _request_page(request, case, request_form)
        not_found = True
        # A fresh form: the number is not echoed back into the page, which the browser may keep.
        form = EmergencySearchForm(initial={"kind": form.cleaned_data["kind"]})
    return render(request, "cases/emergency_search.html", {"form": form, "not_found": not_found})


@require_POST
@sensitive_post_parameters()
@never_cache
def emergency_request(request: AuthenticatedRequest) -> HttpResponse:
    memberships = require_casework_or_forbid(request)
    reference = request.POST.get("reference", "").strip().upper()
    if not reference or request.session.get(FOUND_SESSION_KEY) != reference:
        # Not what this user's last search found (or another tab searched since): search again, so the
        # reason is never given for a different case than the one the user has in front of them.
        messages.error(request, _("Sök fram ärendet igen innan du begär nödåtkomst."))
        return redirect("cases:emergency_search")
    case = find_for_emergency(reference=reference)
    if case is None:
        raise Http404
    if case_access(request.user, case) is not None:
        return to_detail(case)
    form = EmergencyRequestForm(request.POST, memberships=memberships, refused=consent_refusals(case))
    if form.is_valid():
        try:
            access = do_request_emergency_access(
                case,
                acting_user=request.user,
                membership=form.chosen_membership(),
                reason=form.cleaned_data["reason"],
                overrides_refusal=form.cleaned_data.get("overrides_refusal", False),
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
            if form.refused and not form.cleaned_data.get("overrides_refusal"):
                _record_refusal_shown(request, form.chosen_membership(), case)
        else:
            request.session.pop(FOUND_SESSION_KEY, None)
            ends = formats.time_format(timezone.localtime(access.expires_at), "H:i")
            messages.warning(
                request,
                _("Du har nödåtkomst till ärendet till klockan %(time)s. Åtkomsten loggas och granskas.")
                % {"time": ends},
            )
            return to_detail(case)
    return _request_page(request, case, form)


# --- Review -------------------------------------------------------------------------------------------


def emergency_accesses_for_review(memberships: list[Membership]) -> EmergencyAccessQuerySet:
    """What the granskare of these agencies review: emergency accesses to cases their agencies own, and
    those their agencies' staff made. Unreviewed first, then the most recently reviewed."""
    agencies = [membership.agency_id for membership in memberships]
    return (
        EmergencyAccess.objects.filter(Q(case__agency__in=agencies) | Q(agency__in=agencies))
        .select_related("case", "case__agency", "user", "agency", "reviewed_by")
        .order_by(F("reviewed_at").desc(nulls_first=True), "-started_at")
    )


def _require_auditor(request: AuthenticatedRequest) -> list[Membership]:
    memberships = auditor_memberships(request.user)
    if not memberships:
        raise PermissionDenied
    return memberships


def _reviewing_membership(memberships: list[Membership], access: EmergencyAccess) -> Membership:
    """The granskare role of the owning agency if the user has it, else of the accessing agency."""
    for agency_id in (access.case.agency_id, access.agency_id):
        for membership in memberships:
            if membership.agency_id == agency_id:
                return membership
    return memberships[0]


@dataclass(repr=False)
class EmergencyEntry(_Redacted):
    access: EmergencyAccess
    reason: str
    review_comment: str

    @property
    def is_active(self) -> bool:
        return self.access.expires_at > timezone.now()


@transaction.atomic
def read_emergency_reasons(
    accesses: list[EmergencyAccess], *, user: User, membership: Membership, request: AuthenticatedRequest
) -> list[EmergencyEntry]:
    """The reasons and review comments of ``accesses``, decrypted after the audit entry that records
    which were read (fail closed, as cases.reading). Nothing of the cases themselves is opened."""
    if not accesses:
        return []
    references = sorted({access.case.reference for access in accesses})
    record_event(
        "case.emergency_access.reasons.read",
        actor=user,
        membership=membership,
        request=request,
        object_type="case" if len(references) == 1 else "",
        object_reference=references[0] if len(references) == 1 else "",
        object_agency=accesses[0].case.agency.code if len(references) == 1 else "",
        details={"accesses": [str(access.pk) for access in accesses], "cases": references},
    )
    vaults: dict[uuid.UUID, CaseVault] = {}
    entries = []
    for access in accesses:
        vault = vaults.get(access.case_id) or vaults.setdefault(
            access.case_id, CaseVault.for_case(access.case)
        )
        entries.append(
            EmergencyEntry(access, vault.open(access, "reason"), vault.open(access, "review_comment"))
        )
    return entries


@require_GET
@never_cache
def emergency_reviews(request: AuthenticatedRequest) -> HttpResponse:
    memberships = _require_auditor(request)
    queryset = emergency_accesses_for_review(memberships)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("sida"))
    entries = read_emergency_reasons(
        list(page.object_list), user=request.user, membership=memberships[0], request=request
    )
    context = {"page": page, "entries": entries, "awaiting": queryset.awaiting_review().count()}
    return render(request, "cases/emergency_reviews.html", context)


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def emergency_review(request: AuthenticatedRequest, access_id: uuid.UUID) -> HttpResponse:
    memberships = _require_auditor(request)
    access = emergency_accesses_for_review(memberships).filter(pk=access_id).first()
    if access is None:
        raise Http404
    membership = _reviewing_membership(memberships, access)
    # Nobody reviews their own emergency access, whatever other role they hold.
    own = access.user_id == request.user.pk
    form = EmergencyReviewForm(request.POST if request.method == "POST" else None)
    if form.is_bound and own:
        raise PermissionDenied
    if form.is_bound and form.is_valid():
        try:
            do_review_emergency_access(
                access,
                acting_user=request.user,
                membership=membership,
                comment=form.cleaned_data["comment"],
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Nödåtkomsten är granskad."))
            return redirect("cases:emergency_reviews")
    [entry] = read_emergency_reasons([access], user=request.user, membership=membership, request=request)
    context = {"entry": entry, "form": form, "own": own}
    return render(request, "cases/emergency_review.html", context)
