"""Aviseringar: what waits for the user, newest first, each linking to its referral, meeting or action.

The list names the kind and the time, never a case reference or a name: the page behind each link
checks access as always, so a notification outliving the user's access (a disclosure ended) leads to
a 404 and tells nothing on the way. Marking read is a POST; opening the list changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from access.models import User
from cases.models import Case
from cases.views.common import PAGE_SIZE, AuthenticatedRequest
from coordination.models import Notification
from coordination.notifications import unread_count


@dataclass(frozen=True)
class NotificationEntry:
    notification: Notification
    url: str | None


def _reverse(name: str, argument: object) -> str | None:
    # The meeting and action pages are their own parts of coordination; until their routes exist,
    # their notifications show the kind without a link rather than a link to nowhere.
    try:
        return reverse(name, args=[argument])
    except NoReverseMatch:
        return None


def _entries(user: User, notifications: list[Notification]) -> list[NotificationEntry]:
    """Each notification with the page it leads to. An action's page is addressed by its case's
    reference, taken only from the cases the user reaches now (visible_to): no reference of a case
    the user may no longer see ends up in the page, not even in a link."""
    case_ids = {n.action.case_id for n in notifications if n.action is not None}
    references = dict(
        Case.objects.visible_to(user).filter(pk__in=case_ids).values_list("pk", "reference")
        if case_ids
        else []
    )
    entries = []
    for notification in notifications:
        url = None
        if notification.referral_id is not None:
            url = _reverse("coordination:referral_detail", notification.referral_id)
        elif notification.meeting_id is not None:
            url = _reverse("coordination:meeting_detail", notification.meeting_id)
        elif notification.action is not None and notification.action.case_id in references:
            url = _reverse("coordination:case_coordination", references[notification.action.case_id])
        entries.append(NotificationEntry(notification, url))
    return entries


@require_GET
@never_cache
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    rows = Notification.objects.filter(user=request.user).select_related("action").order_by("-created_at")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("sida"))
    context = {
        "page": page,
        "entries": _entries(request.user, list(page.object_list)),
        "unread": unread_count(request.user),
    }
    return render(request, "coordination/notifications.html", context)


@require_POST
def notification_read(request: AuthenticatedRequest, notification_id: uuid.UUID) -> HttpResponse:
    """Mark one of the user's own notifications read; anyone else's is as missing (404)."""
    mine = Notification.objects.filter(pk=notification_id, user=request.user)
    if not mine.exists():
        raise Http404
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("coordination:notifications")


@require_POST
def notifications_read(request: AuthenticatedRequest) -> HttpResponse:
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("coordination:notifications")
