"""Utlämnanden: the owning agency discloses a case to another agency, sees its disclosure history and
ends a disclosure. Every page here is the owner's alone (``for_write``: 403 for a disclosed-to agency or
an emergency reader, 404 for everyone else)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from access.audit import record_event
from access.compliance.labels import reason_label
from access.models import Agency, User
from cases.actions import CaseActionError
from cases.models import Case, Disclosure, ExportNote
from cases.permissions import case_access
from cases.policy import access_case_with_rights
from cases.records import _Redacted
from cases.sharing import do_disclose_case, do_end_disclosure
from cases.sharing_forms import DisclosureForm, EndDisclosureForm
from cases.vault import CaseVault
from cases.views.common import FORM_METHODS, AuthenticatedRequest, access_for_writing, category_labels


@dataclass(repr=False)
class DisclosureEntry(_Redacted):
    disclosure: Disclosure
    justification: str
    categories: list[str]
    never_disclose_to: list[str]
    is_active: bool


@dataclass(repr=False)
class ExportNoteEntry(_Redacted):
    row: ExportNote
    reason: str
    note: str


@dataclass(repr=False)
class DisclosurePage(_Redacted):
    entries: list[DisclosureEntry]
    export_notes: list[ExportNoteEntry]


@transaction.atomic
def read_disclosures(case: Case, *, user: User, request: HttpRequest | None) -> DisclosurePage:
    """Every disclosure of ``case``, newest first, with its justification decrypted, and the notes
    readers added to their PDF downloads (cases.models.ExportNote): for the owning agency only. The
    audit entry is written first, in the same transaction, as in cases.reading: if it
    cannot be written nothing is decrypted (fail closed)."""
    access = case_access(user, case)
    if access is None:
        raise Http404("Ärendet finns inte.")
    if not access.is_owner:
        raise PermissionDenied
    rows = list(
        case.disclosures.select_related("recipient", "created_by", "ended_by").order_by("-created_at")
    )
    notes = list(case.export_notes.select_related("user", "agency").order_by("-created_at"))
    record_event(
        "case.disclosures.read",
        actor=user,
        membership=access.membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        details={"disclosures": len(rows), "export_notes": len(notes)},
    )
    vault = CaseVault.for_case(case)
    names = dict(Agency.objects.values_list("code", "name"))
    today = timezone.localdate()
    entries = [
        DisclosureEntry(
            disclosure=row,
            justification=vault.open(row, "justification"),
            categories=category_labels(row.categories),
            never_disclose_to=[names.get(code, code) for code in row.never_disclose_to],
            is_active=row.is_active(today),
        )
        for row in rows
    ]
    export_notes = [
        ExportNoteEntry(row=note, reason=reason_label(note.reason), note=vault.open(note, "note"))
        for note in notes
    ]
    return DisclosurePage(entries=entries, export_notes=export_notes)


@require_GET
@never_cache
def disclosures(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    access = access_case_with_rights(request.user, reference, for_write=True)
    page = read_disclosures(access.case, user=request.user, request=request)
    context = {"case": access.case, "entries": page.entries, "export_notes": page.export_notes}
    return render(request, "cases/disclosures.html", context)


@require_http_methods(FORM_METHODS)
@sensitive_post_parameters()
@never_cache
def disclose(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    case, membership = access_for_writing(request, reference)
    form = DisclosureForm(request.POST if request.method == "POST" else None, case=case)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            do_disclose_case(
                case,
                acting_user=request.user,
                membership=membership,
                recipient=data["recipient"],
                legal_basis=data["legal_basis"],
                categories=data["categories"],
                justification=data["justification"],
                valid_until=data["valid_until"],
                never_disclose_to=data["never_disclose_to"],
                overrides_refusal=data.get("overrides_refusal", False),
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Ärendet är utlämnat till %(agency)s.") % {"agency": data["recipient"].name}
            )
            return redirect("cases:disclosures", reference=case.reference)
    return render(request, "cases/disclose.html", {"case": case, "form": form})


@require_http_methods(FORM_METHODS)
@never_cache
def end_disclosure(request: AuthenticatedRequest, reference: str, disclosure_id: uuid.UUID) -> HttpResponse:
    """A confirmation page, then the end: the recipient loses access at once."""
    case, membership = access_for_writing(request, reference)
    disclosure = case.disclosures.select_related("recipient").filter(pk=disclosure_id).first()
    if disclosure is None:
        raise Http404
    if not disclosure.is_active():
        messages.info(request, _("Utlämnandet gäller inte längre."))
        return redirect("cases:disclosures", reference=case.reference)
    form = EndDisclosureForm(request.POST if request.method == "POST" else None, disclosure=disclosure)
    if form.is_bound and form.is_valid():
        try:
            do_end_disclosure(
                disclosure,
                acting_user=request.user,
                membership=membership,
                kind=form.cleaned_data["kind"],
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Utlämnandet till %(agency)s är avslutat. Myndigheten ser inte längre ärendet.")
                % {"agency": disclosure.recipient.name},
            )
            return redirect("cases:disclosures", reference=case.reference)
    context = {
        "case": case,
        "disclosure": disclosure,
        "categories": category_labels(disclosure.categories),
        "form": form,
    }
    return render(request, "cases/end_disclosure.html", context)
