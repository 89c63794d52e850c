"""Förfrågningar om samverkan: the inbox of the receiving agency, the sent list, one referral's page,
the send form and the transitions.

Refusals are consistent: a referral (or case) the user may not see answers 404, as a missing one does;
a transition that belongs to the other side answers 403; a transition of the user's own side that the
referral's status no longer allows (someone was quicker) is a message on the referral's page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.models import Agency, User
from cases.actions import CaseActionError
from cases.models import Case, Disclosure
from cases.views.common import (
    FORM_METHODS,
    PAGE_SIZE,
    AuthenticatedRequest,
    access_for_writing,
    category_labels,
    require_casework,
)
from coordination.forms_referrals import RecipientForm, ReferralDisclosureForm, ReferralForm, RejectForm
from coordination.models import Referral, ReferralStatus
from coordination.referrals import (
    access_referral,
    disclosure_in_force,
    do_accept_referral,
    do_complete_referral,
    do_reject_referral,
    do_revoke_referral,
    do_send_referral,
    hidden_received_count,
    read_referral,
    received_referrals,
    sent_referrals,
    status_history,
)

# Set by the send form when it showed the disclosure fields: what the user saw is what is recorded.
WITH_DISCLOSURE = "med_utlamnande"


def _to_detail(referral_id: uuid.UUID) -> HttpResponse:
    return redirect("coordination:referral_detail", referral_id=referral_id)


# --- Lists ----------------------------------------------------------------------------------------------


@require_GET
@never_cache
def referral_inbox(request: AuthenticatedRequest) -> HttpResponse:
    """Referrals to the user's agencies, open ones first. References only: no request text is
    decrypted for a list."""
    memberships = require_casework(request)
    rows = received_referrals(request.user, memberships)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("sida"))
    hidden = hidden_received_count(memberships, shown=page.paginator.count)
    context = {"page": page, "hidden": hidden, "tab": "inbox"}
    return render(request, "coordination/referrals/inbox.html", context)


@require_GET
@never_cache
def referral_sent(request: AuthenticatedRequest) -> HttpResponse:
    memberships = require_casework(request)
    page = Paginator(sent_referrals(request.user, memberships), PAGE_SIZE).get_page(request.GET.get("sida"))
    return render(request, "coordination/referrals/sent.html", {"page": page, "tab": "sent"})


# --- One referral -----------------------------------------------------------------------------------


@require_GET
@never_cache
def referral_detail(request: AuthenticatedRequest, referral_id: uuid.UUID) -> HttpResponse:
    access = access_referral(request.user, referral_id)
    texts = read_referral(access, user=request.user, request=request)
    referral = access.referral
    context = {
        "referral": referral,
        "case": referral.case,
        "texts": texts,
        "history": status_history(referral),
        "transitions": access.allowed_transitions(),
        "is_sender": access.sender is not None,
        "is_receiver": access.receiver is not None,
        "statuses": ReferralStatus,
    }
    return render(request, "coordination/referrals/detail.html", context)


def _transition(
    request: AuthenticatedRequest,
    referral_id: uuid.UUID,
    target: str,
    action: Callable[..., Referral],
    done_message: str,
) -> HttpResponse:
    access = access_referral(request.user, referral_id)
    if not access.may_ever(target):
        # The user sees the referral but is on the other side: never theirs to do.
        raise PermissionDenied
    try:
        action(access.referral, acting_user=request.user, request=request)
    except CaseActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done_message)
    return _to_detail(referral_id)


@require_POST
def referral_accept(request: AuthenticatedRequest, referral_id: uuid.UUID) -> HttpResponse:
    return _transition(
        request,
        referral_id,
        ReferralStatus.ACCEPTED,
        do_accept_referral,
        _("Förfrågan är accepterad. Er myndighets bidrag finns nu i ärendet."),
    )


@require_POST
def referral_complete(request: AuthenticatedRequest, referral_id: uuid.UUID) -> HttpResponse:
    return _transition(
        request, referral_id, ReferralStatus.DONE, do_complete_referral, _("Förfrågan är markerad som klar.")
    )


@require_POST
def referral_revoke(request: AuthenticatedRequest, referral_id: uuid.UUID) -> HttpResponse:
    return _transition(
        request,
        referral_id,
        ReferralStatus.REVOKED,
        do_revoke_referral,
        _("Förfrågan är återkallad. Utlämnandet gäller tills ni avslutar det."),
    )


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def referral_reject(request: AuthenticatedRequest, referral_id: uuid.UUID) -> HttpResponse:
    """A page of its own: a rejection needs a reason, and a mistake in it must not lose the text."""
    access = access_referral(request.user, referral_id)
    if not access.may_ever(ReferralStatus.REJECTED):
        raise PermissionDenied
    referral = access.referral
    if ReferralStatus.REJECTED not in access.allowed_transitions():
        messages.error(
            request,
            _("Förfrågan har status %(status)s och kan inte avvisas.")
            % {"status": ReferralStatus(referral.status).label},
        )
        return _to_detail(referral_id)
    form = RejectForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            do_reject_referral(
                referral, acting_user=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Förfrågan är avvisad."))
            return _to_detail(referral_id)
    return render(
        request,
        "coordination/referrals/reject.html",
        {"referral": referral, "case": referral.case, "form": form},
    )


# --- Sending ----------------------------------------------------------------------------------------------


def _disclosed_to(case_id: uuid.UUID) -> set[int]:
    return set(Disclosure.objects.active().filter(case=case_id).values_list("recipient_id", flat=True))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def referral_send(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """Two steps: choose the agency (a GET form), then write the request. If no disclosure to that
    agency is in force, step two also holds the disclosure form, and sending records both in one
    transaction. Only the owning agency's caseworkers (403 for readers, 404 for everyone else)."""
    case, membership = access_for_writing(request, reference)
    user: User = request.user
    if request.method == "GET":
        chooser = RecipientForm(
            request.GET if "till" in request.GET else None, case=case, disclosed_to=_disclosed_to(case.pk)
        )
        if not chooser.is_bound or not chooser.is_valid():
            return render(request, "coordination/referrals/choose.html", {"case": case, "form": chooser})
        recipient = chooser.cleaned_data["till"]
        form = ReferralForm(initial={"till": recipient.code}, case=case)
        existing = disclosure_in_force(case, recipient)
        disclosure_form = None if existing else ReferralDisclosureForm(case=case, recipient=recipient)
        return _send_page(request, case, form, recipient, existing, disclosure_form)
    form = ReferralForm(request.POST, case=case)
    form_valid = form.is_valid()
    recipient = form.cleaned_data.get("till") if "till" not in form.errors else None
    if recipient is None:
        # Only a tampered form gets here: step two always carries a valid agency.
        messages.error(request, _("Välj vilken myndighet förfrågan ska gå till."))
        return redirect("coordination:referral_send", reference=case.reference)
    with_disclosure = request.POST.get(WITH_DISCLOSURE) == "1"
    disclosure_form = (
        ReferralDisclosureForm(request.POST, case=case, recipient=recipient) if with_disclosure else None
    )
    disclosure_valid = disclosure_form is None or disclosure_form.is_valid()
    if form_valid and disclosure_valid:
        try:
            referral = do_send_referral(
                case,
                acting_user=user,
                membership=membership,
                recipient=recipient,
                request_text=form.cleaned_data["request_text"],
                disclosure_terms=disclosure_form.terms() if disclosure_form is not None else None,
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            if disclosure_form is not None:
                messages.success(
                    request,
                    _("Ärendet är utlämnat till %(agency)s och förfrågan är skickad.")
                    % {"agency": recipient.name},
                )
            else:
                messages.success(
                    request, _("Förfrågan är skickad till %(agency)s.") % {"agency": recipient.name}
                )
            return _to_detail(referral.pk)
    existing = disclosure_in_force(case, recipient)
    if disclosure_form is None and existing is None:
        # The disclosure ended while the user wrote: offer to record one, keeping the request text.
        disclosure_form = ReferralDisclosureForm(case=case, recipient=recipient)
    return _send_page(request, case, form, recipient, existing, disclosure_form)


def _send_page(
    request: AuthenticatedRequest,
    case: Case,
    form: ReferralForm,
    recipient: Agency,
    existing: Disclosure | None,
    disclosure_form: ReferralDisclosureForm | None,
) -> HttpResponse:
    context = {
        "case": case,
        "form": form,
        "recipient": recipient,
        "existing": existing,
        "existing_categories": category_labels(existing.categories) if existing else [],
        "disclosure_form": disclosure_form,
        "with_disclosure": WITH_DISCLOSURE,
    }
    return render(request, "coordination/referrals/send.html", context)
