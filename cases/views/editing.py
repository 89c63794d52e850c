"""Changing a case: every view here goes through ``access_for_writing`` (the owning agency's
caseworkers; 403 for a disclosed-to agency or an emergency reader) except the contribution, which a
recipient agency writes for itself. Changes go through the actions of cases.actions only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from access.models import Membership
from cases.actions import (
    CaseActionError,
    ConcurrentEditError,
    StaleVersionError,
    classification_token,
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
    person_token,
)
from cases.choices import CaseStatus
from cases.forms import (
    ClassificationForm,
    IncidentForm,
    LegalHoldForm,
    OwningAgencyForm,
    PersonForm,
    ProtectiveMeasureForm,
    RiskAssessmentForm,
    StatusForm,
    VersionedTextForm,
)
from cases.models import Case
from cases.policy import access_case_with_rights, casework_memberships
from cases.reading import CaseDetail
from cases.records import Paragraph, _Redacted
from cases.views.common import FORM_METHODS, AuthenticatedRequest, access_for_writing, read, to_detail


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
            return to_detail(case)
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
    case, membership = access_for_writing(request, reference)
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
                    based_on=form.cleaned_data["based_on"] or None,
                )
            except ConcurrentEditError as error:
                form = _rebased(PersonForm, request, person_token(case))
                form.add_error(None, str(error))
            except CaseActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Personuppgifterna är sparade."))
                return to_detail(case)
    else:
        initial = PersonForm.initial_from(read(request, case, membership).person)
        form = PersonForm(initial={**initial, "based_on": person_token(case)})
    return _edit_page(request, case, form, _("Ändra personuppgifter"), _("Spara personuppgifter"))


_EditForm = TypeVar("_EditForm", PersonForm, ClassificationForm)


def _rebased(form_class: type[_EditForm], request: AuthenticatedRequest, current: str) -> _EditForm:
    """The form as the user filled it in, now based on the newest save: what they typed is kept, and
    saving again (once they have checked the case) is a deliberate choice to overwrite."""
    data = request.POST.copy()
    data["based_on"] = current
    form = form_class(data)
    form.is_valid()
    return form


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def classification_edit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)
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
                    based_on=form.cleaned_data["based_on"] or None,
                )
            except ConcurrentEditError as error:
                form = _rebased(ClassificationForm, request, classification_token(case))
                form.add_error(None, str(error))
            except CaseActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Klassificeringen är sparad."))
                return to_detail(case)
    else:
        classification = read(request, case, membership).classification
        initial = ClassificationForm.initial_from(classification)
        form = ClassificationForm(initial={**initial, "based_on": classification_token(case)})
    return _edit_page(request, case, form, _("Ändra klassificering"), _("Spara klassificering"))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def risk_assessment_add(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)
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
            return to_detail(case)
    return _edit_page(request, case, form, _("Ny riskbedömning"), _("Spara riskbedömning"))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def protective_measure_add(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)
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
            return to_detail(case)
    return _edit_page(request, case, form, _("Ny skyddsinsats"), _("Spara skyddsinsats"))


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def incident_add(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)
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
            return to_detail(case)
    return _edit_page(request, case, form, _("Ny händelse"), _("Spara händelse"))


# --- Versioned texts: a stale save loses nothing ------------------------------------------------------


@dataclass(repr=False)
class _Version(_Redacted):
    number: int
    paragraphs: list[Paragraph]

    @property
    def text(self) -> str:
        return "\n\n".join(paragraph.text for paragraph in self.paragraphs)


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
                newer = current(read(request, case, membership))
                form = form.rebased(newer.number)
                form.add_error(None, str(error))
            except CaseActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, saved_message % {"number": number})
                return to_detail(case)
    else:
        version = current(read(request, case, membership))
        form = VersionedTextForm(initial={"text": version.text, "based_on": version.number}, label=label)
    return render(
        request, "cases/text_form.html", {"case": case, "form": form, "title": title, "newer": newer}
    )


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def summary_edit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)

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
        title=_("Ändra sammanfattningen"),
        current=lambda detail: _Version(detail.summary_number, detail.summary),
        save=save,
        saved_message=_("Sammanfattningen är sparad som version %(number)s."),
    )


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def contribution_edit(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """The acting agency's own contribution: the owning agency's, or a disclosed-to agency's own (it
    writes nothing else). An emergency reader only reads."""
    access = access_case_with_rights(request.user, reference)
    membership = access.membership
    if not access.can_contribute or membership is None:
        raise PermissionDenied
    case = access.case
    agency = membership.agency

    def current(detail: CaseDetail) -> _Version:
        own = next((item for item in detail.contributions if item.agency.pk == agency.pk), None)
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
        title=_("Ändra er myndighets bidrag"),
        current=current,
        save=save,
        saved_message=_("Bidraget är sparat som version %(number)s."),
    )


# --- Buttons ----------------------------------------------------------------------------------------


@require_POST
def status_change(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Välj en av de statusar som erbjuds."))
        return to_detail(case)
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
    return to_detail(case)


@require_POST
def legal_hold_change(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)
    form = LegalHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ange om ärendet ska ha bevarandebeslut eller inte."))
        return to_detail(case)
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
    return to_detail(case)
