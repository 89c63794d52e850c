"""The granskare's pages: the start, the search, one case's access history, one user's activity, the
proactive review and the exports.

Each page answers 403 to anyone without an active granskare role, reads the trail only through
``AuditEvent.objects.visible_to_auditor`` and records that read in the trail in the same transaction
(fail closed: if the entry cannot be written, nothing is shown or exported).
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from access.audit import record_event
from access.checkpoints import chain_status, export_checkpoints
from access.compliance import anomalies, exports
from access.compliance.forms import EventSearchForm, ExportForm, PeriodForm, clean_reference
from access.compliance.queries import (
    ActionCount,
    EventFilters,
    KeysetPage,
    ReadSummary,
    acting_membership,
    action_counts,
    agency_names,
    auditor_memberships,
    case_reads,
    keyset_page,
    present,
    present_actions,
    scope_parts,
)
from access.models import AuditEvent, AuditEventQuerySet, Membership, User

# An export larger than this is refused, not cut short: a report that silently lacks events would
# be read as complete. The granskare narrows the search instead.
EXPORT_LIMIT = 10_000


def _export_limit() -> str:
    # Swedish digit grouping: 10 000.
    return f"{EXPORT_LIMIT:,}".replace(",", "\N{NO-BREAK SPACE}")


class AuthenticatedRequest(HttpRequest):
    # For the type checker: LoginRequiredMiddleware lets no anonymous request reach these views.
    user: User


def require_auditor(request: AuthenticatedRequest) -> list[Membership]:
    """Only granskare: for everyone else these pages are refused (403), as the emergency review is."""
    memberships = auditor_memberships(request.user)
    if not memberships:
        raise PermissionDenied
    return memberships


def _cursor(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        # Only ever a link of ours, edited by hand.
        raise BadRequest("bad page cursor")
    return int(value)


def _page(
    request: HttpRequest, events: AuditEventQuerySet, memberships: list[Membership], filters: EventFilters
) -> KeysetPage:
    return keyset_page(
        events,
        parts=scope_parts(memberships) if filters.is_empty else None,
        before=_cursor(request, "fore"),
        after=_cursor(request, "efter"),
    )


def _page_links(path: str, page: KeysetPage | None, query: dict[str, str]) -> dict[str, str]:
    """The links to the newest, the newer and the older page of ``path``, keeping the filters."""
    links = {"newest": "", "newer": "", "older": ""}
    if page is None:
        return links

    def link(**cursor: int) -> str:
        return f"{path}?{urlencode({**query, **cursor})}"

    if page.has_newer:
        links["newest"] = link()
        links["newer"] = link(efter=page.newer_than) if page.newer_than is not None else link()
    if page.older_than is not None:
        links["older"] = link(fore=page.older_than)
    return links


def _cursor_details(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET[name] for name in ("fore", "efter") if request.GET.get(name)}


def _scope_names(memberships: list[Membership]) -> str:
    return ", ".join(sorted(membership.agency.name for membership in memberships))


@require_GET
@never_cache
def start(request: AuthenticatedRequest) -> HttpResponse:
    memberships = require_auditor(request)
    context = {"scope": _scope_names(memberships), "chain": chain_status()}
    return render(request, "access/compliance/start.html", context)


@require_POST
@never_cache
def checkpoint_export(request: AuthenticatedRequest) -> HttpResponse:
    """The signed checkpoints as a file the granskare keeps outside the system (verify_audit --against
    checks the trail against it). Hashes, ids and times only; the download is itself audited."""
    memberships = require_auditor(request)
    out = io.StringIO()
    with transaction.atomic():
        written = export_checkpoints(out)
        record_event(
            "audit.checkpoints.export",
            actor=request.user,
            request=request,
            membership=memberships[0],
            details={"checkpoints": written},
        )
    response = HttpResponse(
        out.getvalue().encode("utf-8"), content_type="application/x-ndjson; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="kontrollpunkter-{stamp}.jsonl"'
    response["Cache-Control"] = "no-store"
    return response


# --- Search ------------------------------------------------------------------------------------------------


def _search_form(data: Any) -> EventSearchForm:
    return EventSearchForm(data, agencies=agency_names(), actions=present_actions())


@transaction.atomic
def _search_read(
    request: AuthenticatedRequest, memberships: list[Membership], filters: EventFilters
) -> KeysetPage:
    events = filters.apply(AuditEvent.objects.visible_to_auditor(request.user))
    page = _page(request, events, memberships, filters)
    record_event(
        "audit.search",
        actor=request.user,
        request=request,
        membership=acting_membership(memberships, filters.agency),
        details={"filters": filters.as_details(), "rows": len(page.events), **_cursor_details(request)},
    )
    return page


def _search_page(
    request: AuthenticatedRequest,
    memberships: list[Membership],
    form: EventSearchForm,
    export_form: ExportForm,
    *,
    export_error: str = "",
) -> HttpResponse:
    page: KeysetPage | None = None
    filters = EventFilters()
    if form.is_valid():
        filters = form.filters()
        page = _search_read(request, memberships, filters)
    context = {
        "form": form,
        "export_form": export_form,
        "export_error": export_error,
        "page": page,
        "rows": present(page.events, agency_names()) if page else [],
        "query": filters.as_query(),
        # The search's own address: this page is also the answer to a refused export (a POST).
        "links": _page_links(reverse("compliance:search"), page, filters.as_query()),
        "scope": _scope_names(memberships),
        "export_limit": _export_limit(),
    }
    return render(request, "access/compliance/search.html", context)


@require_GET
@never_cache
def search(request: AuthenticatedRequest) -> HttpResponse:
    memberships = require_auditor(request)
    return _search_page(request, memberships, _search_form(request.GET), ExportForm())


# --- Export ------------------------------------------------------------------------------------------------


class _TooMany(Exception):
    pass


@transaction.atomic
def _export_read(
    request: AuthenticatedRequest,
    memberships: list[Membership],
    filters: EventFilters,
    *,
    file_format: str,
    reason: str,
) -> list[AuditEvent]:
    """The selection, newest first, and the audit entry of its export, committed together."""
    events = filters.apply(AuditEvent.objects.visible_to_auditor(request.user))
    rows = list(events.order_by("-id")[: EXPORT_LIMIT + 1])
    if len(rows) > EXPORT_LIMIT:
        raise _TooMany
    record_event(
        "audit.export",
        actor=request.user,
        request=request,
        membership=acting_membership(memberships, filters.agency),
        reason=reason,
        details={"format": file_format, "rows": len(rows), "filters": filters.as_details()},
    )
    return rows


def _described_filters(form: EventSearchForm) -> list[tuple[str, str]]:
    described = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if not value:
            continue
        labels: dict[object, object] = {}
        for choice, label in getattr(field, "choices", []):
            # A group (the action families and single actions) holds a list of its own choices.
            labels.update(label if isinstance(label, list | tuple) else [(choice, label)])
        described.append((str(field.label), str(labels.get(value, value))))
    return described


@require_POST
@never_cache
def export(request: AuthenticatedRequest) -> HttpResponse:
    memberships = require_auditor(request)
    form = _search_form(request.POST)
    export_form = ExportForm(request.POST)
    if not (form.is_valid() and export_form.is_valid()):
        return _search_page(request, memberships, form, export_form)
    filters = form.filters()
    file_format: str = export_form.cleaned_data["format"]
    try:
        events = _export_read(
            request, memberships, filters, file_format=file_format, reason=export_form.cleaned_data["grund"]
        )
    except _TooMany:
        message = _(
            "Urvalet har fler än %(limit)s händelser och exporteras inte. Avgränsa sökningen, till "
            "exempel med datum, och exportera igen."
        ) % {"limit": _export_limit()}
        return _search_page(request, memberships, form, export_form, export_error=message)
    rows = present(events, agency_names())
    now = timezone.now()
    # No personal data in the name: the kind of report and the time of export only.
    stem = f"granskningslogg-{timezone.localtime(now):%Y%m%d-%H%M%S}"
    if file_format == "pdf":
        content = exports.pdf_bytes(
            rows,
            title=_("Granskningslogg – export"),
            filters=_described_filters(form),
            scope=_scope_names(memberships),
            exported_by=request.user.get_username(),
            exported_at=now,
        )
        response = HttpResponse(content, content_type="application/pdf")
    else:
        response = HttpResponse(exports.csv_bytes(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.{file_format}"'
    return response


# --- One case, one user --------------------------------------------------------------------------------


@transaction.atomic
def _case_history_read(
    request: AuthenticatedRequest, memberships: list[Membership], reference: str
) -> tuple[KeysetPage, list[ReadSummary]]:
    scoped = AuditEvent.objects.visible_to_auditor(request.user)
    filters = EventFilters(reference=reference)
    page = _page(request, filters.apply(scoped), memberships, filters)
    summary = case_reads(scoped, reference, agency_names())
    owner = next((event.object_agency for event in page.events if event.object_agency), "")
    record_event(
        "audit.case_history",
        actor=request.user,
        request=request,
        membership=acting_membership(memberships, owner),
        object_type="case",
        object_reference=reference,
        object_agency=owner,
        details={"rows": len(page.events), **_cursor_details(request)},
    )
    return page, summary


@require_GET
@never_cache
def case_history(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    """Who read the case, when, from which agency and on what grounds. A reference outside the
    granskare's scope shows the same empty history as one that does not exist."""
    memberships = require_auditor(request)
    try:
        reference = clean_reference(reference)
    except ValidationError as error:
        # Not a reference the system makes (a personnummer, say): not echoed back, just "not found".
        raise Http404 from error
    page, summary = _case_history_read(request, memberships, reference)
    context = {
        "reference": reference,
        "page": page,
        "rows": present(page.events, agency_names()),
        "links": _page_links(request.path, page, {}),
        "summary": summary,
    }
    return render(request, "access/compliance/case_history.html", context)


@transaction.atomic
def _user_activity_read(
    request: AuthenticatedRequest, memberships: list[Membership], username: str
) -> tuple[KeysetPage, list[ActionCount]]:
    filters = EventFilters(username=username)
    events = filters.apply(AuditEvent.objects.visible_to_auditor(request.user))
    page = _page(request, events, memberships, filters)
    counts = action_counts(events)
    # Named in the trail only when the user is or was a member of one of the granskare's agencies: the
    # granskare reads their own audit.* events, so "found" for anyone else would tell an existing
    # username outside their scope from an unknown one.
    codes = [membership.agency.code for membership in memberships]
    subject = (
        User.objects.filter(username=username, memberships__agency__code__in=codes)
        .values_list("public_id", flat=True)
        .first()
    )
    record_event(
        "audit.user_activity",
        actor=request.user,
        request=request,
        membership=memberships[0],
        # As access/events.py records users: by their opaque id, and never a name that matches nobody.
        object_type="user" if subject else "",
        object_reference=str(subject) if subject else "",
        details={"rows": len(page.events), "found": subject is not None, **_cursor_details(request)},
    )
    return page, counts


@require_GET
@never_cache
def user_activity(request: AuthenticatedRequest, username: str) -> HttpResponse:
    memberships = require_auditor(request)
    page, counts = _user_activity_read(request, memberships, username)
    context = {
        "username": username,
        "page": page,
        "rows": present(page.events, agency_names()),
        "links": _page_links(request.path, page, {}),
        "counts": counts,
    }
    return render(request, "access/compliance/user_activity.html", context)


# --- Proactive review ----------------------------------------------------------------------------------


@transaction.atomic
def _review_read(
    request: AuthenticatedRequest, memberships: list[Membership], form: PeriodForm
) -> anomalies.Review:
    start, end = form.period()
    result = anomalies.review(AuditEvent.objects.visible_to_auditor(request.user), start, end)
    record_event(
        "audit.anomalies",
        actor=request.user,
        request=request,
        membership=memberships[0],
        details={"from": start.isoformat(), "to": end.isoformat()},
    )
    return result


@require_GET
@never_cache
def anomaly_review(request: AuthenticatedRequest) -> HttpResponse:
    memberships = require_auditor(request)
    form = PeriodForm(request.GET)
    result = None
    period = None
    if form.is_valid():
        period = form.period()
        result = _review_read(request, memberships, form)
    context = {
        "form": form,
        "result": result,
        "period": period,
        "factor": anomalies.HEAVY_READER_FACTOR,
        "minimum": anomalies.HEAVY_READER_MINIMUM,
        "opens": anomalies.OFFICE_OPENS,
        "closes": anomalies.OFFICE_CLOSES,
        "listed": anomalies.LISTED_GROUPS,
    }
    return render(request, "access/compliance/anomalies.html", context)
