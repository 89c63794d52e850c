"""Audit events for logging in and for changes to who may do what.

Failed logins, failed codes and lockouts are recorded from the signals Django and django-axes send,
so every way into ``authenticate()`` is covered; successful logins, enrolments and logouts are
recorded by the login views (access/views.py) in the transaction of the login itself.

Users, memberships, agencies and direct permissions are recorded from model signals, so a change
is audited whichever path makes it: the admin, a command, the shell, the demo seed. The models save
inside a transaction (access/models.py) and Django deletes and changes many-to-many relations inside
one, so each change commits with its event or not at all: an event that cannot be written raises
AuditWriteError and the change is rolled back. The actor is the logged-in user of the current
request (access/context.py); outside a request it is None, the system.

Queryset ``update()`` and ``bulk_create()`` send no signals and would go unrecorded: application
code must not use them on these models (tests/access/test_membership_events.py checks that it
does not).

What is stored: public ids, agency codes, role names, permission codenames, flags and counts. Never
a username that matches no user (people type their password into the username field), never a
password or a code.
"""

from __future__ import annotations

from typing import Any, TypedDict

from axes.helpers import get_cool_off
from axes.models import AccessFailureLog
from axes.signals import user_locked_out
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from access.audit import record_event
from access.context import acting_user, current_request, is_deriving_groups
from access.models import Agency, Membership, Role, User

# The sender access/views.py uses when it reports a wrong TOTP code to django-axes (so codes count
# towards the same lockout as passwords); it tells this module the failure was a code's.
SECOND_FACTOR_SENDER = "access.second_factor"

# Set on a request by the lockout receiver, consumed by the failure receiver that follows it.
_PENDING_LOCKOUT = "_access_pending_lockout"
# The state of a row before it is saved, kept on the instance from pre_save to post_save.
_BEFORE = "_access_audit_before"


class Subject(TypedDict, total=False):
    """What an event is about: record_event's object fields."""

    object_type: str
    object_reference: str
    object_agency: str


def user_subject(user: User) -> Subject:
    """The object fields of an event about ``user``: an opaque id, never the username."""
    return {"object_type": "user", "object_reference": str(user.public_id)}


def agency_codes(user: User) -> list[str]:
    """The codes of the agencies whose role ``user`` may currently act in."""
    return sorted(user.memberships.active().values_list("agency__code", flat=True))


def _known_user(username: object) -> User | None:
    if not isinstance(username, str) or not username:
        return None
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()


# --- Logging in -------------------------------------------------------------------------------------


def _lockout_in_progress(username: str | None, request: HttpRequest) -> bool:
    """True when this account was already locked before the failure now being handled.

    django-axes sends ``user_locked_out`` for the failure that reaches the limit and again for every
    refused attempt while locked (each also extends the cool-off). Its failure log, written after
    this signal, tells them apart: the account was already locked if the latest earlier failure
    within one cool-off was refused. Two racing failures can both find an unlocked account; the
    lockout is then recorded twice, never missed (as it would be without the failure log, which
    settings keep on: AXES_ENABLE_ACCESS_FAILURE_LOG).
    """
    cool_off = get_cool_off(request)
    failures = AccessFailureLog.objects.filter(username=username)
    if cool_off is not None:
        failures = failures.filter(attempt_time__gte=timezone.now() - cool_off)
    latest = failures.order_by("-attempt_time", "-id").values_list("locked_out", flat=True).first()
    return bool(latest)


@receiver(user_locked_out)
def _note_lockout(
    sender: object, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    # Recorded by the failure receiver below, after the failure that caused it and in its
    # transaction: axes sends this from inside its own user_login_failed receiver, which runs first.
    if request is not None and not _lockout_in_progress(username, request):
        setattr(request, _PENDING_LOCKOUT, True)


@receiver(user_login_failed)
def _record_login_failure(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong password, an unknown username, a refused locked account or a wrong TOTP code.

    Connected after django-axes' receiver (axes comes first in INSTALLED_APPS), so the failure is
    counted towards the lockout even when this event cannot be written and the request fails.
    """
    user = _known_user(credentials.get(User.USERNAME_FIELD))
    subject = user_subject(user) if user else Subject()
    locked_out = bool(getattr(request, "axes_locked_out", False))
    details: dict[str, Any]
    if sender == SECOND_FACTOR_SENDER:
        action = "auth.second_factor_failed"
        details = {
            "second_factor": "totp",
            "enrolment": bool(kwargs.get("enrolment")),
            "locked_out": locked_out,
        }
    else:
        action = "auth.login_failed"
        # For an unknown username the flag is all: the attempted name may be someone's password.
        details = (
            {"known_user": True, "active": user.is_active, "locked_out": locked_out}
            if user
            else {"known_user": False}
        )
    with transaction.atomic():
        record_event(action, actor=user, request=request, details=details, **subject)
        if request is not None and getattr(request, _PENDING_LOCKOUT, False):
            delattr(request, _PENDING_LOCKOUT)
            lockout_details: dict[str, Any] = {"known_user": False}
            if user is not None:
                failures = getattr(request, "axes_failures_since_start", None)
                lockout_details = {"known_user": True, "failures": failures}
            record_event("auth.lockout", actor=user, request=request, details=lockout_details, **subject)


# --- Changes to users, memberships, agencies and permissions ----------------------------------------


def _record_change(action: str, subject: Subject, *, details: dict[str, Any]) -> None:
    actor = acting_user()
    # Changes are an administrator's work: the event names the agency and role they hold it in, so that
    # agency's granskare sees what its administrators did.
    membership = (
        Membership.objects.active()
        .filter(user=actor, role=Role.SYSTEMADMINISTRATOR)
        .select_related("agency")
        .order_by("agency__code")
        .first()
        if actor is not None
        else None
    )
    record_event(
        action, actor=actor, request=current_request.get(), membership=membership, details=details, **subject
    )


def _membership_subject(membership: Membership) -> Subject:
    """Events about a membership name its user (opaquely) and the agency, whose granskare sees them."""
    user = user_subject(membership.user)
    return {**user, "object_type": "membership", "object_agency": membership.agency.code}


def _agency_subject(agency: Agency) -> Subject:
    return {"object_type": "agency", "object_reference": agency.code, "object_agency": agency.code}


def _snapshot(
    instance: Model, update_fields: frozenset[str] | None, watched: set[str], **values: str
) -> None:
    """Keep the watched fields' stored values on the instance for post_save (locked until commit,
    so the event's "old" is the value this save replaced)."""
    setattr(instance, _BEFORE, None)
    if instance.pk is None or (update_fields is not None and not watched & set(update_fields)):
        return
    row = (
        type(instance)
        ._default_manager.select_for_update()
        .filter(pk=instance.pk)
        .values(*values.values())
        .first()
    )
    if row is not None:
        setattr(instance, _BEFORE, {name: row[column] for name, column in values.items()})


def _before(instance: Model) -> dict[str, Any] | None:
    before: dict[str, Any] | None = getattr(instance, _BEFORE, None)
    setattr(instance, _BEFORE, None)
    return before


class OwnAccountChange(PermissionDenied):
    """Someone tried to change their own memberships, staff or superuser status, whichever path they took."""


def _refuse_own(user_pk: object) -> None:
    actor = acting_user()
    if actor is not None and actor.pk == user_pk:
        raise OwnAccountChange("No one changes their own memberships, staff or superuser status.")


@receiver(pre_delete, sender=Membership)
def _membership_deleting(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    _refuse_own(instance.user_id)


@receiver(pre_save, sender=Membership)
def _membership_before(
    sender: type[Membership], instance: Membership, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    _refuse_own(instance.user_id)
    _snapshot(
        instance,
        update_fields,
        {"role", "agency", "user"},
        role="role",
        agency="agency__code",
        active="agency__is_active",
        user="user__public_id",
    )


@receiver(post_save, sender=Membership)
def _membership_saved(sender: type[Membership], instance: Membership, created: bool, **kwargs: Any) -> None:
    before = _before(instance)
    subject = _membership_subject(instance)
    if created:
        details = {"role": instance.role, "active": instance.agency.is_active}
        _record_change("membership.create", subject, details=details)
        return
    if before is None:
        return
    changes: dict[str, Any] = {}
    if before["agency"] != instance.agency.code:
        changes["old_agency"] = before["agency"]
    if before["user"] != instance.user.public_id:
        changes["old_user"] = str(before["user"])
    if not changes and before["role"] == instance.role:
        return  # saved unchanged (the demo seed does, on every run)
    details = {
        "old_role": before["role"],
        "new_role": instance.role,
        "active_changed": before["active"] != instance.agency.is_active,
        **changes,
    }
    _record_change("membership.change", subject, details=details)


@receiver(post_delete, sender=Membership)
def _membership_deleted(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    subject = _membership_subject(instance)
    _record_change("membership.delete", subject, details={"role": instance.role})


_USER_FLAGS = ("is_active", "is_staff", "is_superuser")


@receiver(pre_save, sender=User)
def _user_before(
    sender: type[User], instance: User, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    # Logging in saves last_login and nothing else: no lookup, no lock.
    _snapshot(instance, update_fields, set(_USER_FLAGS), **{flag: flag for flag in _USER_FLAGS})


@receiver(post_save, sender=User)
def _user_saved(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    before = _before(instance)
    subject = user_subject(instance)
    if created:
        details: dict[str, Any] = {flag: getattr(instance, flag) for flag in _USER_FLAGS}
        _record_change("user.create", subject, details=details)
        return
    if before is None:
        return
    if before["is_active"] != instance.is_active:
        action = "user.activate" if instance.is_active else "user.deactivate"
        _record_change(action, subject, details={"agencies": agency_codes(instance)})
    if before["is_staff"] != instance.is_staff or before["is_superuser"] != instance.is_superuser:
        _refuse_own(instance.pk)  # raised inside the save's transaction: the change is rolled back
        details = {
            "old_is_staff": before["is_staff"],
            "new_is_staff": instance.is_staff,
            "old_is_superuser": before["is_superuser"],
            "new_is_superuser": instance.is_superuser,
        }
        _record_change("user.staff_change", subject, details=details)


@receiver(post_delete, sender=User)
def _user_deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    _record_change("user.delete", user_subject(instance), details={})


def _permission_names(model: type[Model], pks: set[Any]) -> list[str]:
    if model is Group:
        return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))
    permissions = Permission.objects.filter(pk__in=pks).select_related("content_type")
    return sorted(f"{permission.content_type.app_label}.{permission.codename}" for permission in permissions)


def _permission_changes(
    field: str, instance: Model, action: str, reverse: bool, pk_set: set[Any] | None
) -> list[tuple[User, set[Any], bool]]:
    """(user, primary keys of the groups or permissions, removed?) for one m2m_changed signal."""
    removed = action in ("pre_clear", "post_remove")
    if action == "pre_clear":
        if reverse:
            return [(user, {instance.pk}, removed) for user in User.objects.filter(**{field: instance})]
        if isinstance(instance, User):
            return [(instance, set(getattr(instance, field).values_list("pk", flat=True)), removed)]
    elif action in ("post_add", "post_remove") and pk_set:
        if reverse:
            return [(user, {instance.pk}, removed) for user in User.objects.filter(pk__in=pk_set)]
        if isinstance(instance, User):
            return [(instance, set(pk_set), removed)]
    return []


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
def _user_permissions_changed(
    sender: type[Model],
    instance: Model,
    action: str,
    reverse: bool,
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    """A user's direct permissions or groups changed (an agency group carries case permissions).

    Groups derived from memberships (access/groups.py) are marked as such; the membership event
    beside them says why. A clear is recorded before it happens, while its rows can still be read.
    """
    field = "groups" if sender is User.groups.through else "user_permissions"
    target: type[Model] = Group if field == "groups" else Permission
    for user, pks, removed in _permission_changes(field, instance, action, reverse, pk_set):
        if not pks:
            continue
        names = _permission_names(target, pks)
        details = {
            "field": field,
            "added": [] if removed else names,
            "removed": names if removed else [],
            "derived": field == "groups" and is_deriving_groups(),
        }
        _record_change("user.permissions_change", user_subject(user), details=details)


_AGENCY_FIELDS = ("code", "name", "kind", "is_active")


@receiver(pre_save, sender=Agency)
def _agency_before(
    sender: type[Agency], instance: Agency, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    _snapshot(instance, update_fields, set(_AGENCY_FIELDS), **{field: field for field in _AGENCY_FIELDS})


@receiver(post_save, sender=Agency)
def _agency_saved(sender: type[Agency], instance: Agency, created: bool, **kwargs: Any) -> None:
    """An agency's activity decides whether every membership in it counts (Membership.objects.active)."""
    before = _before(instance)
    subject = _agency_subject(instance)
    if created:
        _record_change(
            "agency.create", subject, details={"kind": instance.kind, "active": instance.is_active}
        )
        return
    if before is None:
        return
    changed = sorted(field for field in _AGENCY_FIELDS if before[field] != getattr(instance, field))
    if not changed:
        return
    details: dict[str, Any] = {
        "changed": changed,
        "old_active": before["is_active"],
        "new_active": instance.is_active,
    }
    if "code" in changed:
        details["old_code"] = before["code"]
    _record_change("agency.change", subject, details=details)


@receiver(post_delete, sender=Agency)
def _agency_deleted(sender: type[Agency], instance: Agency, **kwargs: Any) -> None:
    subject = _agency_subject(instance)
    _record_change("agency.delete", subject, details={})
