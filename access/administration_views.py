"""User administration for a municipality's systemadministratör, and the second person's confirmations.

Every change goes through access/administration.py, which audits it and enforces the rules (no one
changes their own account, role grants, login resets and e-mail changes take two people). These views
show no case and link to none: the administrator's work is accounts, never case contents.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, cast

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import administration as actions
from access.administration_forms import AccountChangeForm, GrantForm, NewUserForm
from access.models import AccountChange, Agency, EnrolmentLink, Membership, User


def _actor(request: HttpRequest) -> actions.Actor:
    return actions.Actor(user=cast(User, request.user), request=request)


def _administrator(request: HttpRequest) -> actions.Actor:
    actor = _actor(request)
    if not actions.is_administrator(actor.user):
        raise PermissionDenied
    return actor


def _confirmer(request: HttpRequest) -> actions.Actor:
    """A systemadministratör or a chef: the people who may be a second person at all."""
    actor = _actor(request)
    if not actions.is_administrator(actor.user) and not actions.chef_agencies(actor.user):
        raise PermissionDenied
    return actor


def _run(request: HttpRequest, action: Callable[[], Any], done: str) -> None:
    """Run one action; a refusal becomes an error message and the action changes nothing."""
    try:
        action()
    except actions.AdministrationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)


def _to_user(user: User) -> HttpResponse:
    return redirect("administration:user_detail", public_id=user.public_id)


def _awaiting(user: User) -> dict[str, Any]:
    """What waits for ``user`` as a second person: grants and account changes they did not ask for."""
    agencies = (
        Agency.objects.all()
        if actions.is_administrator(user)
        else Agency.objects.filter(pk__in=actions.chef_agencies(user))
    )
    grants = (
        Membership.objects.pending()
        .filter(agency__in=agencies)
        .exclude(Q(granted_by=user) | Q(user=user))
        .select_related("user", "agency", "granted_by")
        .order_by("created_at")
    )
    changes = [
        change
        for change in AccountChange.objects.filter(confirmed_at__isnull=True, cancelled_at__isnull=True)
        .exclude(Q(requested_by=user) | Q(user=user))
        .select_related("user", "requested_by")
        if actions.may_confirm_for_user(user, change.user)
    ]
    return {"pending_grants": grants, "pending_changes": changes}


def overview(request: HttpRequest) -> HttpResponse:
    actor = _confirmer(request)
    administrator = actions.is_administrator(actor.user)
    context: dict[str, Any] = {"administrator": administrator, **_awaiting(actor.user)}
    if administrator:
        agencies = Agency.objects.order_by("name")
        selected = request.GET.get("myndighet", "")
        users = User.objects.order_by("username").prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.current().select_related("agency"),
                to_attr="current_memberships",
            )
        )
        if selected:
            users = users.filter(
                memberships__agency__code=selected, memberships__ended_at__isnull=True
            ).distinct()
        context.update({"agencies": agencies, "selected": selected, "users": users})
    return render(request, "access/administration/overview.html", context)


def user_create(request: HttpRequest) -> HttpResponse:
    actor = _administrator(request)
    form = NewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.create_user(actor, **form.cleaned_data)
        except actions.AdministrationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Kontot är skapat och en aktiveringslänk har skickats till användarens e-post.")
            )
            return _to_user(user)
    return render(request, "access/administration/user_create.html", {"form": form})


def _user(public_id: uuid.UUID) -> User:
    return get_object_or_404(User, public_id=public_id)


def user_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    _administrator(request)
    user = _user(public_id)
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("agency", "granted_by", "confirmed_by", "ended_by")
        .order_by("ended_at", "agency__name")
    )
    context = {
        "subject": user,
        "memberships": memberships,
        "enrolled": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "link": EnrolmentLink.objects.usable().filter(user=user).order_by("-created_at").first(),
        "locked_out": AccessAttempt.objects.filter(
            username=user.get_username(), failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        ).exists(),
        "changes": AccountChange.objects.filter(user=user).select_related("requested_by", "confirmed_by")[
            :10
        ],
        "grant_form": GrantForm(),
        "change_form": AccountChangeForm(),
        "own_account": user.pk == request.user.pk,
    }
    return render(request, "access/administration/user_detail.html", context)


@require_POST
def membership_grant(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _administrator(request)
    user = _user(public_id)
    form = GrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Välj en aktiv myndighet och en roll."))
        return _to_user(user)
    agency, role = form.cleaned_data["agency"], form.cleaned_data["role"]
    _run(
        request,
        lambda: actions.grant_membership(actor, user, agency, role),
        _("Rollen är beviljad och väntar på att en andra person bekräftar den."),
    )
    return _to_user(user)


def _membership(public_id: uuid.UUID) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "agency", "granted_by"), public_id=public_id
    )


def _back(request: HttpRequest, user: User) -> HttpResponse:
    return (
        _to_user(user)
        if actions.is_administrator(cast(User, request.user))
        else redirect("administration:overview")
    )


@require_POST
def membership_confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _confirmer(request)
    membership = _membership(public_id)
    _run(
        request,
        lambda: actions.confirm_membership(actor, membership),
        _("Rollen är bekräftad och gäller nu."),
    )
    return _back(request, membership.user)


@require_POST
def membership_reject(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _confirmer(request)
    membership = _membership(public_id)
    _run(
        request,
        lambda: actions.end_membership(actor, membership, rejected=True),
        _("Rollen är avslagen."),
    )
    return _back(request, membership.user)


@require_POST
def membership_end(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _administrator(request)
    membership = _membership(public_id)
    _run(request, lambda: actions.end_membership(actor, membership), _("Rollen är avslutad."))
    return _to_user(membership.user)


@require_POST
def user_deactivate(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _administrator(request)
    user = _user(public_id)
    _run(
        request,
        lambda: actions.deactivate_user(actor, user),
        _("Kontot är inaktiverat, alla roller är avslutade och alla inloggningar är avslutade."),
    )
    return _to_user(user)


@require_POST
def user_reactivate(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _administrator(request)
    user = _user(public_id)
    _run(request, lambda: actions.reactivate_user(actor, user), _("Kontot är aktiverat igen, utan roller."))
    return _to_user(user)


@require_POST
def lockout_lift(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _administrator(request)
    user = _user(public_id)
    _run(request, lambda: actions.lift_lockout(actor, user), _("Spärren är hävd."))
    return _to_user(user)


@require_POST
def invitation_resend(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _administrator(request)
    user = _user(public_id)
    _run(
        request,
        lambda: actions.resend_invitation(actor, user),
        _("En ny aktiveringslänk har skickats till användarens e-post. Den tidigare gäller inte längre."),
    )
    return _to_user(user)


@require_POST
def account_change_request(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _administrator(request)
    user = _user(public_id)
    form = AccountChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Välj en ändring, och för en ny e-postadress: ange en giltig adress."))
        return _to_user(user)
    kind, email = form.cleaned_data["kind"], form.cleaned_data["new_email"]
    _run(
        request,
        lambda: actions.request_account_change(actor, user, kind, new_email=email),
        _("Ändringen väntar på att en andra person bekräftar den."),
    )
    return _to_user(user)


def _change(public_id: uuid.UUID) -> AccountChange:
    return get_object_or_404(
        AccountChange.objects.select_related("user", "requested_by"), public_id=public_id
    )


@require_POST
def account_change_confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _confirmer(request)
    change = _change(public_id)
    _run(
        request,
        lambda: actions.confirm_account_change(actor, change),
        _("Ändringen är bekräftad och genomförd."),
    )
    return _back(request, change.user)


@require_POST
def account_change_cancel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = _confirmer(request)
    change = _change(public_id)
    _run(request, lambda: actions.cancel_account_change(actor, change), _("Ändringen är avbruten."))
    return _back(request, change.user)
