"""What a municipality's systemadministratör does, as audited actions: the only way to change who may do what.

The rules that keep the administrator out of the cases:

- No one changes their own account: memberships, activity, lockout, login or e-mail address. A refused
  attempt is itself audited (``admin.self_change_refused``) and shows in the granskare's anomaly review.
- Every role grant is made by one person and takes effect only when a second confirms it: the chef of the
  agency or another systemadministratör, never the granter and never the grantee.
- A login reset and a change of e-mail address (the two ways to take over someone's account: the enrolment
  link goes to that address) also need a second person.
- An account never holds systemadministratör beside a casework role (access/models.py).
- The enrolment link goes by e-mail to the user, never to the administrator's screen.

Each action writes its own ``admin.*`` event in the transaction of the change; the model signals of
access/events.py write their row-level events beside it.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.audit import record_event
from access.events import user_subject
from access.models import (
    AccountChange,
    Agency,
    EnrolmentLink,
    Membership,
    Role,
    RoleCombinationError,
    User,
    check_role_combination,
)
from access.models_admin import AccountChangeKind, EnrolmentPurpose, token_digest


class AdministrationError(Exception):
    """A refused administrative action; ``str(error)`` is the Swedish message for the administrator."""


@dataclass(frozen=True)
class Actor:
    """The person acting and the request they act in: events name their administrator membership."""

    user: User
    request: HttpRequest | None

    @property
    def membership(self) -> Membership | None:
        return administrator_membership(self.user) or (
            Membership.objects.active()
            .filter(user=self.user, role=Role.CHEF)
            .select_related("agency")
            .order_by("agency__code")
            .first()
        )


def administrator_membership(user: User) -> Membership | None:
    return (
        Membership.objects.active()
        .filter(user=user, role=Role.SYSTEMADMINISTRATOR)
        .select_related("agency")
        .order_by("agency__code")
        .first()
    )


def is_administrator(user: User) -> bool:
    return administrator_membership(user) is not None


def chef_agencies(user: User) -> set[int]:
    return set(
        Membership.objects.active().filter(user=user, role=Role.CHEF).values_list("agency_id", flat=True)
    )


def _event(actor: Actor, action: str, target: User, *, agency: str = "", **details: object) -> None:
    subject = user_subject(target)
    # The agency whose granskare sees it: the one the change is in, else the account's own agency.
    owner = agency or (
        Membership.objects.current()
        .filter(user=target)
        .order_by("agency__code")
        .values_list("agency__code", flat=True)
        .first()
    )
    if owner:
        subject["object_agency"] = owner
    record_event(
        action,
        actor=actor.user,
        request=actor.request,
        membership=actor.membership,
        details=dict(details),
        **subject,
    )


def _refuse_own_account(actor: Actor, target: User, attempted: str) -> None:
    """Refuse, and audit the refusal in a transaction of its own, so it stays when the action fails."""
    if actor.user.pk != target.pk:
        return
    with transaction.atomic():
        _event(actor, "admin.self_change_refused", target, attempted=attempted)
    raise AdministrationError(_("Du kan inte ändra ditt eget konto eller dina egna roller."))


def _refuse_second_person(actor: Actor, target: User, first: User | None, attempted: str) -> None:
    """The confirming person must be neither the one who asked nor the one it is about."""
    if actor.user.pk in {target.pk, getattr(first, "pk", None)}:
        with transaction.atomic():
            _event(actor, "admin.self_change_refused", target, attempted=attempted)
        raise AdministrationError(
            _("Ändringen måste bekräftas av en annan person än den som begärde den och den som den gäller.")
        )


def _require_administrator(actor: Actor) -> None:
    if not is_administrator(actor.user):
        raise AdministrationError(_("Endast en systemadministratör kan göra detta."))


def may_confirm_for_agency(user: User, agency: Agency) -> bool:
    """The agency's chef or any systemadministratör may be the second person for a grant in it."""
    return is_administrator(user) or agency.pk in chef_agencies(user)


def may_confirm_for_user(user: User, target: User) -> bool:
    """A systemadministratör, or a chef of an agency where ``target`` holds a role."""
    if is_administrator(user):
        return True
    agencies = set(Membership.objects.current().filter(user=target).values_list("agency_id", flat=True))
    return bool(agencies & chef_agencies(user))


# --- Sessions and enrolment links -------------------------------------------------------------------


def end_sessions(user: User) -> int:
    """Delete every session ``user`` is logged in with (database sessions); returns how many."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def enrolment_lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.ENROLMENT_LINK_HOURS)


def issue_enrolment_link(actor: Actor, user: User, purpose: str) -> str:
    """Revoke the user's earlier links, make a new one and return its secret token (sent, never shown)."""
    now = timezone.now()
    for link in EnrolmentLink.objects.usable().filter(user=user):
        link.revoked_at = now
        link.save(update_fields=["revoked_at"])
    token = secrets.token_urlsafe(32)
    link = EnrolmentLink.objects.create(
        user=user,
        token_hash=token_digest(token),
        purpose=purpose,
        created_by=actor.user,
        expires_at=now + enrolment_lifetime(),
    )
    _event(actor, "admin.enrolment_link_sent", user, purpose=purpose, link=str(link.public_id))
    return token


def enrolment_url(request: HttpRequest | None, token: str) -> str:
    path = reverse("access:enrolment_link", args=[token])
    if request is None:
        raise AdministrationError(_("En aktiveringslänk kan bara skickas från administrationssidorna."))
    return request.build_absolute_uri(path)


def _mail(address: str, subject: str, body: str) -> None:
    """Staff e-mail: what happened to the account and, for a link, the link. Never case data."""
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)


def _send_link(actor: Actor, user: User, purpose: str) -> None:
    token = issue_enrolment_link(actor, user, purpose)
    url = enrolment_url(actor.request, token)
    hours = settings.ENROLMENT_LINK_HOURS
    if purpose == EnrolmentPurpose.INVITATION:
        subject = _("Ditt konto i Skyddsnät")
        intro = _("Ett konto i Skyddsnät har skapats åt dig.")
    else:
        subject = _("Din inloggning till Skyddsnät har återställts")
        intro = _(
            "Din inloggning till Skyddsnät har återställts av en administratör. Alla dina inloggade "
            "sessioner har avslutats och din tidigare autentiseringsapp fungerar inte längre. Om du inte "
            "har bett om detta, kontakta din chef."
        )
    body = "\n\n".join(
        [
            intro,
            _(
                "Öppna länken inom %(hours)d timmar för att välja lösenord och aktivera tvåfaktorinloggning. "
                "Länken kan bara användas en gång."
            )
            % {"hours": hours},
            url,
        ]
    )
    _mail(user.email, subject, body)


# --- Users ----------------------------------------------------------------------------------------


def create_user(actor: Actor, *, username: str, first_name: str, last_name: str, email: str) -> User:
    """A new account with no password and no role; its owner gets an enrolment link by e-mail."""
    _require_administrator(actor)
    with transaction.atomic():
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        user.set_unusable_password()
        user.save()
        _event(actor, "admin.user_create", user)
        _send_link(actor, user, EnrolmentPurpose.INVITATION)
    return user


def resend_invitation(actor: Actor, user: User) -> None:
    """A new link for someone who has never enrolled (the first expired or was lost)."""
    _require_administrator(actor)
    _refuse_own_account(actor, user, "invitation")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise AdministrationError(
            _("Användaren har redan aktiverat sin inloggning. Begär en återställning i stället.")
        )
    with transaction.atomic():
        _send_link(actor, user, EnrolmentPurpose.INVITATION)


def deactivate_user(actor: Actor, user: User) -> None:
    """A leaver: no login, no session, no link, and every role ended (reactivating restores none)."""
    _require_administrator(actor)
    _refuse_own_account(actor, user, "deactivate")
    now = timezone.now()
    with transaction.atomic():
        ended = []
        for membership in Membership.objects.current().filter(user=user).select_related("agency"):
            membership.ended_at, membership.ended_by = now, actor.user
            membership.save(update_fields=["ended_at", "ended_by"])
            ended.append(membership.agency.code)
        for link in EnrolmentLink.objects.usable().filter(user=user):
            link.revoked_at = now
            link.save(update_fields=["revoked_at"])
        user.is_active = False
        user.save(update_fields=["is_active"])
        sessions = end_sessions(user)
        _event(actor, "admin.user_deactivate", user, ended_memberships=sorted(ended), sessions_ended=sessions)


def reactivate_user(actor: Actor, user: User) -> None:
    _require_administrator(actor)
    _refuse_own_account(actor, user, "reactivate")
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        _event(actor, "admin.user_reactivate", user)


def lift_lockout(actor: Actor, user: User) -> int:
    """Clear the failed attempts that lock ``user`` out; returns how many were cleared."""
    _require_administrator(actor)
    _refuse_own_account(actor, user, "lockout_lift")
    with transaction.atomic():
        cleared = int(reset_lockout(username=user.get_username()))
        _event(actor, "admin.lockout_lift", user, attempts_cleared=cleared)
    return cleared


# --- Memberships ----------------------------------------------------------------------------------


def grant_membership(actor: Actor, user: User, agency: Agency, role: str) -> Membership:
    """A role granted by one person, waiting for a second (``confirm_membership``)."""
    _require_administrator(actor)
    _refuse_own_account(actor, user, "membership_grant")
    if not user.is_active:
        raise AdministrationError(_("Kontot är inaktiverat."))
    if not agency.is_active:
        raise AdministrationError(_("Myndigheten är inte aktiv."))
    if Membership.objects.current().filter(user=user, agency=agency).exists():
        raise AdministrationError(
            _("Användaren har redan en roll i myndigheten. Avsluta den först för att ge en annan.")
        )
    try:
        check_role_combination(user, role)
    except RoleCombinationError as error:
        raise AdministrationError(error.messages[0]) from error
    with transaction.atomic():
        membership = Membership.objects.create(
            user=user, agency=agency, role=role, granted_by=actor.user, confirmed_at=None
        )
        _event(
            actor,
            "admin.membership_grant",
            user,
            agency=agency.code,
            role=role,
            membership=str(membership.public_id),
        )
    return membership


def confirm_membership(actor: Actor, membership: Membership) -> None:
    """The second person: from now on the role counts (Membership.objects.active)."""
    user = membership.user
    _refuse_second_person(actor, user, membership.granted_by, "membership_confirm")
    if not may_confirm_for_agency(actor.user, membership.agency):
        raise AdministrationError(
            _("Endast myndighetens chef eller en annan systemadministratör kan bekräfta.")
        )
    if membership.confirmed_at is not None or membership.ended_at is not None:
        raise AdministrationError(_("Rollen väntar inte längre på bekräftelse."))
    try:
        check_role_combination(user, membership.role, exclude=membership.pk)
    except RoleCombinationError as error:
        raise AdministrationError(error.messages[0]) from error
    with transaction.atomic():
        membership.confirmed_at, membership.confirmed_by = timezone.now(), actor.user
        membership.save(update_fields=["confirmed_at", "confirmed_by"])
        _event(
            actor,
            "admin.membership_confirm",
            user,
            agency=membership.agency.code,
            role=membership.role,
            membership=str(membership.public_id),
            granted_by=str(membership.granted_by.public_id) if membership.granted_by else "",
        )


def end_membership(actor: Actor, membership: Membership, *, rejected: bool = False) -> None:
    """End a role, or turn down a grant still waiting (``rejected``). Kept, with who ended it."""
    user = membership.user
    _refuse_own_account(actor, user, "membership_end")
    if rejected:
        if not may_confirm_for_agency(actor.user, membership.agency):
            raise AdministrationError(
                _("Endast myndighetens chef eller en annan systemadministratör kan bekräfta.")
            )
    else:
        _require_administrator(actor)
    if membership.ended_at is not None:
        raise AdministrationError(_("Rollen är redan avslutad."))
    with transaction.atomic():
        membership.ended_at, membership.ended_by = timezone.now(), actor.user
        membership.save(update_fields=["ended_at", "ended_by"])
        _event(
            actor,
            "admin.membership_reject" if rejected else "admin.membership_end",
            user,
            agency=membership.agency.code,
            role=membership.role,
            membership=str(membership.public_id),
        )


# --- Account changes that need a second person ------------------------------------------------------


def request_account_change(actor: Actor, user: User, kind: str, *, new_email: str = "") -> AccountChange:
    _require_administrator(actor)
    _refuse_own_account(actor, user, kind)
    if AccountChange.objects.filter(user=user, confirmed_at__isnull=True, cancelled_at__isnull=True).exists():
        raise AdministrationError(_("En ändring av kontot väntar redan på bekräftelse."))
    if kind == AccountChangeKind.EMAIL and not new_email:
        raise AdministrationError(_("Ange den nya e-postadressen."))
    with transaction.atomic():
        change = AccountChange.objects.create(
            user=user, kind=kind, new_email=new_email, requested_by=actor.user
        )
        _event(actor, f"admin.{kind}_request", user, change=str(change.public_id))
    return change


def confirm_account_change(actor: Actor, change: AccountChange) -> None:
    user = change.user
    _refuse_second_person(actor, user, change.requested_by, f"{change.kind}_confirm")
    if not may_confirm_for_user(actor.user, user):
        raise AdministrationError(
            _(
                "Endast chefen för en av användarens myndigheter eller en annan systemadministratör "
                "kan bekräfta."
            )
        )
    if not change.pending:
        raise AdministrationError(_("Ändringen väntar inte längre på bekräftelse."))
    with transaction.atomic():
        change.confirmed_at, change.confirmed_by = timezone.now(), actor.user
        change.save(update_fields=["confirmed_at", "confirmed_by"])
        if change.kind == AccountChangeKind.LOGIN_RESET:
            _reset_login(actor, user, change)
        else:
            _change_email(actor, user, change)


def cancel_account_change(actor: Actor, change: AccountChange) -> None:
    if not (actor.user.pk == change.requested_by_id or may_confirm_for_user(actor.user, change.user)):
        raise AdministrationError(_("Du kan inte avbryta den här ändringen."))
    if not change.pending:
        raise AdministrationError(_("Ändringen väntar inte längre på bekräftelse."))
    with transaction.atomic():
        change.cancelled_at = timezone.now()
        change.save(update_fields=["cancelled_at"])
        _event(actor, f"admin.{change.kind}_cancel", change.user, change=str(change.public_id))


def _reset_login(actor: Actor, user: User, change: AccountChange) -> None:
    """Old authenticators removed, password unusable, every session ended, a new link to the user."""
    devices = TOTPDevice.objects.filter(user=user)
    removed = devices.count()
    for device in devices:
        device.delete()
    user.set_unusable_password()
    user.save(update_fields=["password"])
    sessions = end_sessions(user)
    _event(
        actor,
        "admin.login_reset",
        user,
        change=str(change.public_id),
        requested_by=str(change.requested_by.public_id),
        devices_removed=removed,
        sessions_ended=sessions,
    )
    _send_link(actor, user, EnrolmentPurpose.RESET)


def _change_email(actor: Actor, user: User, change: AccountChange) -> None:
    """The old address is told, so a takeover by address is seen by the account's owner."""
    old = user.email
    user.email = change.new_email
    user.save(update_fields=["email"])
    _event(
        actor,
        "admin.email_change",
        user,
        change=str(change.public_id),
        requested_by=str(change.requested_by.public_id),
    )
    if old:
        _mail(
            old,
            _("Din e-postadress i Skyddsnät har ändrats"),
            _(
                "E-postadressen för ditt konto i Skyddsnät har ändrats av en administratör. Om du inte "
                "känner till ändringen, kontakta din chef."
            ),
        )
