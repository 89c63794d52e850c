"""The case pages: access → action → response.

Every case is fetched through cases.policy.access_case (404 for "missing" and "not yours" alike) and
every list is scoped by Case.objects.visible_to. Contents are shown only through the audited reads of
cases.reading, and changed only through the actions of cases.actions.

URLs carry the opaque reference and nothing else: the search by personnummer is a POST, and no
message, redirect or log line names a person or a number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.audit import record_event
from access.models import Membership, User
from cases.actions import (
    CaseActionError,
    StaleVersionError,
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_change_status,
    do_open_case,
    do_save_contribution,
    do_save_summary,
    do_set_legal_hold,
    do_update_classification,
    do_update_person,
)
from cases.choices import STATUS_TRANSITIONS, CaseFlag, CaseStatus
from cases.crypto import blind_index
from cases.forms import (
    ClassificationForm,
    IdentitySearchForm,
    IncidentForm,
    LegalHoldForm,
    OwningAgencyForm,
    PersonForm,
    ProtectiveMeasureForm,
    ReferenceSearchForm,
    RiskAssessmentForm,
    StatusForm,
    VersionedTextForm,
)
from cases.models import Case
from cases.policy import access_case, acting_membership, casework_memberships
from cases.reading import CaseDetail, Contribution, read_case, read_summary_history
from cases.records import Paragraph, _Redacted

PAGE_SIZE = 25
FORM_METHODS = ["GET", "POST"]


class AuthenticatedRequest(HttpRequest):
    # For the type checker: LoginRequiredMiddleware lets no anonymous request reach these views.
    user: User


def _require_casework(request: AuthenticatedRequest) -> None:
    """Managers, auditors and administrators never see cases: for them the case pages do not exist."""
    if not casework_memberships(request.user):
        raise Http404


def _access_for_writing(request: AuthenticatedRequest, reference: str) -> tuple[Case, Membership]:
    case = access_case(request.user, reference, for_write=True)
    membership = acting_membership(request.user, case)
    if membership is None:  # access_case(for_write=True) refuses this already; the type checker can't know
        raise PermissionDenied
    return case, membership


def _read(request: AuthenticatedRequest, case: Case, membership: Membership | None) -> CaseDetail:
    return read_case(case, user=request.user, membership=membership, request=request)


def _to_detail(case: Case) -> HttpResponse:
    return redirect("cases:detail", reference=case.reference)


# --- Lists and search -------------------------------------------------------------------------------


@require_GET
@never_cache
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    """The user's cases, without names (a name needs an audited read). ``?referens=`` opens one case:
    a reference is no personal data, and one the user may not see is "not found" like any other."""
    _require_casework(request)
    reference_form = ReferenceSearchForm(request.GET if "referens" in request.GET else None)
    not_found = False
    if reference_form.is_valid():
        try:
            return _to_detail(access_case(request.user, reference_form.cleaned_data["referens"]))
        except Http404:
            not_found = True
    cases = (
        Case.objects.visible_to(request.user)
        .select_related("agency", "responsible", "person")
        .order_by("-last_entry_on", "reference")
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("sida"))
    context = {
        "page": page,
        "reference_form": reference_form,
        "identity_form": IdentitySearchForm(),
        "not_found": not_found,
    }
    return render(request, "cases/list.html", context)


@transaction.atomic
def _find_by_identity(request: AuthenticatedRequest, normalised: str, kind: str) -> list[Case]:
    """Only among the cases the user may already see; the audit entry records the count, not the number."""
    hits = list(
        Case.objects.visible_to(request.user)
        .filter(person__identity_index=blind_index(normalised))
        .select_related("agency", "responsible", "person")
        .order_by("-last_entry_on", "reference")
    )
    record_event(
        "case.search", actor=request.user, request=request, details={"hits": len(hits), "kind": kind}
    )
    return hits


@require_POST
@sensitive_post_parameters()
@never_cache
def search(request: AuthenticatedRequest) -> HttpResponse:
    _require_casework(request)
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


@require_GET
@never_cache
def case_detail(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case = access_case(request.user, reference)
    membership = acting_membership(request.user, case)
    detail = _read(request, case, membership)
    own_contribution = _own_contribution(detail, membership)
    transitions = [status for status in CaseStatus if status in STATUS_TRANSITIONS[case.status]]
    flags = [flag for flag in CaseFlag.values if flag in detail.classification.effective_flags()]
    context = {
        "case": case,
        "detail": detail,
        "can_write": membership is not None,
        "membership": membership,
        "own_contribution": own_contribution,
        "transitions": transitions,
        "flags": flags,
    }
    return render(request, "cases/detail.html", context)


@require_GET
@never_cache
def summary_history(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case = access_case(request.user, reference)
    membership = acting_membership(request.user, case)
    history = read_summary_history(case, user=request.user, membership=membership, request=request)
    return render(request, "cases/summary_history.html", {"case": case, "history": history})


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def case_create(request: AuthenticatedRequest) -> HttpResponse:
    memberships = casework_memberships(request.user)
    if not memberships:
        raise Http404
    data = request.POST if request.method == "POST" else None
    agency_form = OwningAgencyForm(data, memberships=memberships)
    person_form = PersonForm(data)
    classification_form = ClassificationForm(data)
    # Every form validates, so every mistake is shown at once.
    valid = [form.is_valid() for form in (agency_form, person_form, classification_form)]
    if data is not None and all(valid):
        try:
            case = do_open_case(
                acting_user=request.user,
                membership=agency_form.membership(),
                person=person_form.person_data(),
                classification=classification_form.classification(),
                request=request,
            )
        except CaseActionError as error:
            person_form.add_error(None, str(error))
        else:
            messages.success(request, _("Ärendet %(reference)s är öppnat.") % {"reference": case.reference})
            return _to_detail(case)
    context = {
        "agency_form": agency_form,
        "person_form": person_form,
        "classification_form": classification_form,
        "single_agency": len(memberships) == 1,
    }
    return render(request, "cases/create.html", context)


def _edit_page(request: AuthenticatedRequest, case: Case, form: Any, title: str, submit: str) -> HttpResponse:
    context = {"case": case, "form": form, "title": title, "submit_label": submit}
    return render(request, "cases/case_form.html", context)


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def person_edit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    if request.method == "POST":
        form = PersonForm(request.POST)
        if form.is_valid():
            try:
                do_update_person(
                    case,
                    acting_user=request.user,
                    membership=membership,
                    person=form.person_data(),
                    request=request,
                )
            except CaseActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Personuppgifterna är sparade."))
                return _to_detail(case)
    else:
        form = PersonForm(initial=PersonForm.initial_from(_read(request, case, membership).person))
    return _edit_page(request, case, form, _("Ändra personuppgifter"), _("Spara personuppgifter"))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def classification_edit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    if request.method == "POST":
        form = ClassificationForm(request.POST)
        if form.is_valid():
            try:
                do_update_classification(
                    case,
                    acting_user=request.user,
                    membership=membership,
                    classification=form.classification(),
                    request=request,
                )
            except CaseActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Klassificeringen är sparad."))
                return _to_detail(case)
    else:
        classification = _read(request, case, membership).classification
        form = ClassificationForm(initial=ClassificationForm.initial_from(classification))
    return _edit_page(request, case, form, _("Ändra klassificering"), _("Spara klassificering"))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def risk_assessment_add(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    form = RiskAssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_add_risk_assessment(
                case,
                acting_user=request.user,
                membership=membership,
                assessment=form.save(commit=False),
                override_reason=form.cleaned_data["override_reason"],
                notes=form.cleaned_data["notes"],
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Riskbedömningen är sparad."))
            return _to_detail(case)
    return _edit_page(request, case, form, _("Ny riskbedömning"), _("Spara riskbedömning"))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def protective_measure_add(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    form = ProtectiveMeasureForm(request.POST or None, initial={"responsible_agency": membership.agency_id})
    if request.method == "POST" and form.is_valid():
        try:
            do_add_protective_measure(
                case,
                acting_user=request.user,
                membership=membership,
                measure=form.save(commit=False),
                notes=form.cleaned_data["notes"],
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Skyddsinsatsen är sparad."))
            return _to_detail(case)
    return _edit_page(request, case, form, _("Ny skyddsinsats"), _("Spara skyddsinsats"))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def incident_add(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_add_incident(
                case,
                acting_user=request.user,
                membership=membership,
                occurred_on=form.cleaned_data["occurred_on"],
                forms=form.cleaned_data["violence_forms"],
                notes=form.cleaned_data["notes"],
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Händelsen är sparad."))
            return _to_detail(case)
    return _edit_page(request, case, form, _("Ny händelse"), _("Spara händelse"))


# --- Versioned texts: a stale save loses nothing ------------------------------------------------------


@dataclass(repr=False)
class _Version(_Redacted):
    number: int
    paragraphs: list[Paragraph]

    @property
    def text(self) -> str:
        return "\n\n".join(paragraph.text for paragraph in self.paragraphs)


def _own_contribution(detail: CaseDetail, membership: Membership | None) -> Contribution | None:
    if membership is None:
        return None
    return next((item for item in detail.contributions if item.agency.pk == membership.agency_id), None)


def _edit_versioned_text(
    request: AuthenticatedRequest,
    case: Case,
    membership: Membership,
    *,
    label: str,
    title: str,
    current: Callable[[CaseDetail], _Version],
    save: Callable[[str, int], int],
    saved_message: str,
) -> HttpResponse:
    """The form of the summary and of a contribution. The form carries the version it was based on; if
    someone saved a newer one meanwhile, the user's text stays in the form, the newer version is shown
    beside it, and the form is based on that version, so saving after comparing is a deliberate step."""
    newer: _Version | None = None
    if request.method == "POST":
        form = VersionedTextForm(request.POST, label=label)
        if form.is_valid():
            try:
                number = save(form.cleaned_data["text"], form.cleaned_data["based_on"])
            except StaleVersionError as error:
                newer = current(_read(request, case, membership))
                form = form.rebased(newer.number)
                form.add_error(None, str(error))
            except CaseActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, saved_message % {"number": number})
                return _to_detail(case)
    else:
        version = current(_read(request, case, membership))
        form = VersionedTextForm(initial={"text": version.text, "based_on": version.number}, label=label)
    return render(
        request, "cases/text_form.html", {"case": case, "form": form, "title": title, "newer": newer}
    )


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def summary_edit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)

    def save(text: str, based_on: int) -> int:
        return do_save_summary(
            case,
            acting_user=request.user,
            membership=membership,
            text=text,
            based_on=based_on,
            request=request,
        ).number

    return _edit_versioned_text(
        request,
        case,
        membership,
        label=_("Sammanfattning"),
        title=_("Redigera sammanfattningen"),
        current=lambda detail: _Version(detail.summary_number, detail.summary),
        save=save,
        saved_message=_("Sammanfattningen är sparad som version %(number)s."),
    )


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def contribution_edit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    agency = membership.agency

    def current(detail: CaseDetail) -> _Version:
        own = _own_contribution(detail, membership)
        if own is None:
            return _Version(0, [])
        return _Version(own.number, [Paragraph(agency.code, agency.name, own.text)] if own.text else [])

    def save(text: str, based_on: int) -> int:
        return do_save_contribution(
            case,
            acting_user=request.user,
            membership=membership,
            text=text,
            based_on=based_on,
            request=request,
        ).number

    return _edit_versioned_text(
        request,
        case,
        membership,
        label=_("Bidrag från %(agency)s") % {"agency": agency.name},
        title=_("Redigera myndighetens bidrag"),
        current=current,
        save=save,
        saved_message=_("Bidraget är sparat som version %(number)s."),
    )


# --- Buttons ----------------------------------------------------------------------------------------


@require_POST
def status_change(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Välj en av de statusar som erbjuds."))
        return _to_detail(case)
    new_status = form.cleaned_data["status"]
    try:
        do_change_status(
            case, acting_user=request.user, membership=membership, new_status=new_status, request=request
        )
    except CaseActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Ärendet har nu status %(status)s.") % {"status": CaseStatus(new_status).label}
        )
    return _to_detail(case)


@require_POST
def legal_hold_change(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = _access_for_writing(request, reference)
    form = LegalHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ange om ärendet ska ha bevarandebeslut eller inte."))
        return _to_detail(case)
    hold = form.cleaned_data["hold"]
    try:
        do_set_legal_hold(case, acting_user=request.user, membership=membership, hold=hold, request=request)
    except CaseActionError as error:
        messages.error(request, str(error))
    else:
        if hold:
            messages.success(request, _("Ärendet har bevarandebeslut och gallras inte."))
        else:
            messages.success(request, _("Bevarandebeslutet är upphävt."))
    return _to_detail(case)
