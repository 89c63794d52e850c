"""Samverkansmöten: access → action → response.

Every meeting is fetched through ``coordination.meetings.access_meeting`` (404 alike for a meeting that
does not exist and for one the user takes no part in; 403 for a participant who tries to change what
only the organiser's samordnare may). Sealed text is shown only through the audited reads there, and
the PDFs are built inside the transaction that audits them: if the event cannot be written, no file.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.views.common import FORM_METHODS, AuthenticatedRequest
from coordination import pdf
from coordination.meeting_forms import (
    AgendaForm,
    AttendanceForm,
    ExportReasonForm,
    MeetingActionForm,
    MeetingForm,
    MinutesForm,
)
from coordination.meetings import (
    MeetingAccess,
    MeetingError,
    StaleMinutesError,
    access_meeting,
    action_owner_candidates,
    agenda_case_access,
    attendance_candidates,
    casework_memberships,
    coordinator_memberships,
    do_add_meeting_action,
    do_add_to_agenda,
    do_cancel_meeting,
    do_mark_held,
    do_record_attendance,
    do_record_minutes,
    do_remove_from_agenda,
    do_schedule_meeting,
    export_access,
    meetings_visible_to,
    minutes_token,
    read_meeting,
    read_summary_for_export,
    require_organiser,
)
from coordination.models import AgendaItem, MeetingStatus
from coordination.pdf_fonts import PdfFontMissingError

logger = logging.getLogger(__name__)


def _font_missing() -> str:
    return _(
        "PDF:en kan inte skapas just nu: ett typsnitt saknas på servern. Kontakta systemadministratören."
    )


def _to_meeting(access: MeetingAccess, anchor: str = "") -> HttpResponse:
    url = reverse("coordination:meeting_detail", kwargs={"meeting_id": access.meeting.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


def _item(access: MeetingAccess, item_id: uuid.UUID) -> AgendaItem:
    item = (
        access.meeting.agenda.select_related("case__agency", "case__person", "meeting__organiser")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404
    return item


def _readable_item(request: AuthenticatedRequest, access: MeetingAccess, item_id: uuid.UUID) -> AgendaItem:
    """An agenda item whose case the organiser may read now; otherwise it does not exist for them."""
    item = _item(access, item_id)
    if agenda_case_access(request.user, item.case) is None:
        raise Http404
    return item


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    # The file name says what it is and when, never who.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- The list and scheduling -----------------------------------------------------------------------


@require_GET
@never_cache
def meetings(request: AuthenticatedRequest) -> HttpResponse:
    """The meetings of the user's agencies: planned ones first (soonest first), then the rest."""
    if not casework_memberships(request.user):
        raise Http404
    visible = meetings_visible_to(request.user).select_related("organiser").prefetch_related("participants")
    upcoming = list(visible.filter(status=MeetingStatus.PLANNED).order_by("starts_at"))
    earlier = list(visible.exclude(status=MeetingStatus.PLANNED).order_by("-starts_at")[:50])
    context = {
        "upcoming": upcoming,
        "earlier": earlier,
        "can_schedule": bool(coordinator_memberships(request.user)),
    }
    return render(request, "coordination/meetings/list.html", context)


@require_http_methods(FORM_METHODS)
@never_cache
def meeting_create(request: AuthenticatedRequest) -> HttpResponse:
    coordinators = coordinator_memberships(request.user)
    if not coordinators:
        raise PermissionDenied
    form = MeetingForm(
        request.POST if request.method == "POST" else None, coordinator_memberships=coordinators
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = do_schedule_meeting(
                acting_user=request.user,
                membership=form.organiser_membership(),
                starts_at=data["starts_at"],
                kind=data["kind"],
                participants=data["participants"],
                request=request,
            )
        except MeetingError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request, _("Mötet är planerat och de deltagande myndigheterna har fått en kallelse.")
            )
            return redirect("coordination:meeting_detail", meeting_id=meeting.pk)
    return render(request, "coordination/meetings/create.html", {"form": form})


# --- One meeting ----------------------------------------------------------------------------------------


def _render_detail(
    request: AuthenticatedRequest, access: MeetingAccess, agenda_form: AgendaForm, *, status: int = 200
) -> HttpResponse:
    record = read_meeting(access, user=request.user, request=request)
    context = {
        "record": record,
        "meeting": access.meeting,
        "access": access,
        "agenda_form": agenda_form,
        "is_planned": access.meeting.status == MeetingStatus.PLANNED,
        "is_cancelled": access.meeting.status == MeetingStatus.CANCELLED,
        "has_started": access.meeting.starts_at <= timezone.now(),
    }
    return render(request, "coordination/meetings/detail.html", context, status=status)


@require_GET
@never_cache
def meeting_detail(request: AuthenticatedRequest, meeting_id: uuid.UUID) -> HttpResponse:
    access = access_meeting(request.user, meeting_id)
    return _render_detail(request, access, AgendaForm())


@require_POST
@never_cache
def agenda_add(request: AuthenticatedRequest, meeting_id: uuid.UUID) -> HttpResponse:
    access = access_meeting(request.user, meeting_id)
    membership = require_organiser(access)
    form = AgendaForm(request.POST)
    if form.is_valid():
        try:
            item = do_add_to_agenda(
                access.meeting,
                acting_user=request.user,
                membership=membership,
                reference=form.cleaned_data["reference"],
                request=request,
            )
        except MeetingError as error:
            form.add_error("reference", str(error))
        else:
            messages.success(
                request,
                _("Ärende %(reference)s står nu på dagordningen.") % {"reference": item.case.reference},
            )
            return _to_meeting(access, f"punkt-{item.pk}")
    # The page again, with the reference typed and the reason it was refused.
    return _render_detail(request, access, form, status=200)


@require_POST
@never_cache
def agenda_remove(request: AuthenticatedRequest, meeting_id: uuid.UUID, item_id: uuid.UUID) -> HttpResponse:
    access = access_meeting(request.user, meeting_id)
    membership = require_organiser(access)
    item = _item(access, item_id)
    try:
        do_remove_from_agenda(item, acting_user=request.user, membership=membership, request=request)
    except MeetingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Punkten är borttagen från dagordningen."))
    return _to_meeting(access, "dagordning")


@require_http_methods(FORM_METHODS)
@never_cache
def minutes_edit(request: AuthenticatedRequest, meeting_id: uuid.UUID, item_id: uuid.UUID) -> HttpResponse:
    access = access_meeting(request.user, meeting_id)
    membership = require_organiser(access)
    item = _readable_item(request, access, item_id)
    newer = None
    if request.method == "POST":
        form = MinutesForm(request.POST)
        if form.is_valid():
            try:
                do_record_minutes(
                    item,
                    acting_user=request.user,
                    membership=membership,
                    minutes=form.cleaned_data["minutes"],
                    decisions=form.cleaned_data["decisions"],
                    based_on=form.cleaned_data["based_on"],
                    request=request,
                )
            except StaleMinutesError as error:
                item.refresh_from_db()
                form = form.rebased(minutes_token(item))
                form.add_error(None, str(error))
                newer = read_meeting(access, user=request.user, request=request, only_item=item).agenda[0]
            except MeetingError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("Protokollet är sparat."))
                return _to_meeting(access, f"punkt-{item.pk}")
        entry = newer or read_meeting(access, user=request.user, request=request, only_item=item).agenda[0]
    else:
        entry = read_meeting(access, user=request.user, request=request, only_item=item).agenda[0]
        form = MinutesForm(
            initial={"minutes": entry.minutes, "decisions": entry.decisions, "based_on": minutes_token(item)}
        )
    context = {"meeting": access.meeting, "entry": entry, "form": form, "newer": newer}
    return render(request, "coordination/meetings/minutes.html", context)


@require_http_methods(FORM_METHODS)
@never_cache
def action_add(request: AuthenticatedRequest, meeting_id: uuid.UUID, item_id: uuid.UUID) -> HttpResponse:
    access = access_meeting(request.user, meeting_id)
    membership = require_organiser(access)
    item = _readable_item(request, access, item_id)
    form = MeetingActionForm(
        request.POST if request.method == "POST" else None, candidates=action_owner_candidates(item)
    )
    if form.is_bound and form.is_valid():
        try:
            do_add_meeting_action(
                item,
                acting_user=request.user,
                membership=membership,
                owner_membership=form.owner_membership(),
                due_on=form.cleaned_data["due_on"],
                description=form.cleaned_data["description"],
                request=request,
            )
        except MeetingError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Åtgärden är registrerad och den ansvariga har fått en avisering."))
            return _to_meeting(access, f"punkt-{item.pk}")
    context = {"meeting": access.meeting, "item": item, "reference": item.case.reference, "form": form}
    return render(request, "coordination/meetings/action_form.html", context)


@require_http_methods(FORM_METHODS)
@never_cache
def attendance(request: AuthenticatedRequest, meeting_id: uuid.UUID) -> HttpResponse:
    access = access_meeting(request.user, meeting_id)
    membership = require_organiser(access)
    candidates = attendance_candidates(access.meeting)
    present = {(row.user_id, row.agency_id) for row in access.meeting.attendance.all()}
    initial = [m.pk for m in candidates if (m.user_id, m.agency_id) in present]
    form = AttendanceForm(
        request.POST if request.method == "POST" else None,
        candidates=candidates,
        initial={"attendees": initial},
    )
    if form.is_bound and form.is_valid():
        try:
            do_record_attendance(
                access.meeting,
                acting_user=request.user,
                membership=membership,
                attendees=form.chosen(),
                request=request,
            )
        except MeetingError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Närvaron är registrerad."))
            return _to_meeting(access, "narvaro")
    return render(request, "coordination/meetings/attendance.html", {"meeting": access.meeting, "form": form})


@require_http_methods(FORM_METHODS)
@never_cache
def meeting_cancel(request: AuthenticatedRequest, meeting_id: uuid.UUID) -> HttpResponse:
    """A confirmation page, then the cancellation."""
    access = access_meeting(request.user, meeting_id)
    membership = require_organiser(access)
    error_message = ""
    if request.method == "POST":
        try:
            do_cancel_meeting(
                access.meeting, acting_user=request.user, membership=membership, request=request
            )
        except MeetingError as error:
            error_message = str(error)
        else:
            messages.success(request, _("Mötet är inställt."))
            return _to_meeting(access)
    return render(
        request,
        "coordination/meetings/cancel.html",
        {"meeting": access.meeting, "error_message": error_message},
    )


@require_POST
@never_cache
def meeting_held(request: AuthenticatedRequest, meeting_id: uuid.UUID) -> HttpResponse:
    access = access_meeting(request.user, meeting_id)
    membership = require_organiser(access)
    try:
        do_mark_held(access.meeting, acting_user=request.user, membership=membership, request=request)
    except MeetingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Mötet är markerat som genomfört."))
    return _to_meeting(access)


# --- The PDFs -------------------------------------------------------------------------------------------


@require_http_methods(FORM_METHODS)
@never_cache
def meeting_pdf(request: AuthenticatedRequest, meeting_id: uuid.UUID) -> HttpResponse:
    """The meeting pack for a samordnare of a participating agency, after a reason: audited (one event
    per case in it, with the reason) in the transaction that builds the file."""
    access = access_meeting(request.user, meeting_id)
    if not access.can_download:
        raise PermissionDenied
    form = ExportReasonForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            with transaction.atomic():
                record = read_meeting(
                    access,
                    user=request.user,
                    request=request,
                    action="meeting.pdf",
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
                # Built inside the transaction: if it fails, the audit events go too (no file, no event).
                content = pdf.render_meeting_pdf(
                    record, username=request.user.get_username(), generated_at=timezone.now()
                )
        except PdfFontMissingError:
            logger.exception("The meeting PDF could not be made")
            form.add_error(None, _font_missing())
        else:
            day = timezone.localtime(access.meeting.starts_at).date().isoformat()
            return _pdf_response(content, f"motesunderlag-{day}.pdf")
    context = {"meeting": access.meeting, "form": form}
    return render(request, "coordination/meetings/meeting_pdf.html", context)


@require_http_methods(FORM_METHODS)
@never_cache
def case_summary_pdf(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """One case's summary as PDF, for a samordnare who reads it through their own agency."""
    access = export_access(request.user, reference)
    form = ExportReasonForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            with transaction.atomic():
                export = read_summary_for_export(
                    access,
                    user=request.user,
                    request=request,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
                content = pdf.render_summary_pdf(
                    export, username=request.user.get_username(), generated_at=timezone.now()
                )
        except PdfFontMissingError:
            logger.exception("The summary PDF could not be made")
            form.add_error(None, _font_missing())
        else:
            return _pdf_response(content, f"sammanfattning-{timezone.localdate().isoformat()}.pdf")
    context = {"case": access.case, "form": form}
    return render(request, "coordination/meetings/case_summary_pdf.html", context)
