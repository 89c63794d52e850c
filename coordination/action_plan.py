"""The action plan of a case (åtgärdsplan): who sees it, who adds, closes and reassigns its actions.

Who sees a case's action plan. The plan is part of the protective work on the case, so it travels with
the information category MEASURES (skyddsinsatser). A user sees the plan when ``case_access`` reaches
the case
- via the owning agency (which sees every category), or
- via a disclosure in force whose categories include MEASURES, or
- via the user's own emergency access (which carries MEASURES): read-only.
A disclosure without MEASURES shows the case but nothing of its plan, not even how many actions it has.
Chef, granskare and systemadministratör never reach a case, so never a plan; a chef sees counts only
(coordination/views/start.py).

Which agencies may own an action: the agencies that see the plan through their own casework, that is
the case's owning agency and every agency with a disclosure in force that includes MEASURES and is
backed by that agency's own guardian grant (both must agree, as in cases/permissions.py). The owner
is an active handläggare or samordnare of the owning agency.

Who does what:
- add: caseworkers of the case's owning agency, for any agency that may own an action; caseworkers of
  a disclosed-to agency (with MEASURES), for their own agency only. Emergency access never adds.
- close (done or cancelled) and reassign within the agency: only caseworkers of the action's own
  agency, and only while that agency still sees the plan (the action-owner rule). The case's owning
  agency does not close another agency's action.

Descriptions are sealed with the case's key and opened only by ``read_action_plan``, after its audit
event ``action.read``. Each change writes its event (``action.add``, ``action.close``,
``action.reassign``) in the same transaction; events carry ids, codes and statuses, never the text.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from access.audit import record_event
from access.groups import GROUP_PREFIX
from access.models import CASEWORK_ROLES, Agency, Membership, User
from cases.actions import CaseActionError
from cases.choices import CaseStatus, InformationCategory
from cases.models import Case, CaseGroupObjectPermission, Disclosure
from cases.permissions import CATEGORY_PERMISSIONS, CaseAccess, case_access
from cases.records import _Redacted
from cases.vault import CaseVault
from coordination.models import Action, ActionStatus, NotificationKind
from coordination.notifications import notify

PLAN_CATEGORY = InformationCategory.MEASURES.value
DESCRIPTION_MAX_LENGTH = 2000
CLOSING_STATUSES = (ActionStatus.DONE.value, ActionStatus.CANCELLED.value)


def today() -> datetime.date:
    return timezone.localdate()


def is_overdue(action: Action, on: datetime.date | None = None) -> bool:
    return action.status == ActionStatus.OPEN and action.due_on < (on or today())


# --- Who sees the plan, and which agencies may own an action ----------------------------------------------


def sees_plan(access: CaseAccess | None) -> bool:
    """Whether this access to a case shows its action plan (the visibility rule above)."""
    if access is None:
        return False
    if access.via == "owner":
        return True
    if access.via == "disclosure":
        return access.sees(PLAN_CATEGORY)
    if access.via == "emergency":
        return access.sees(PLAN_CATEGORY)
    return False


def plan_agency_ids(case_agencies: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, set[int]]:
    """For each case (id → owning agency id): the agencies that see its plan through their casework.

    Two queries whatever the number of cases: the disclosures in force, and the recipients' own
    MEASURES grants. A disclosure counts only when both agree, so an expired disclosure whose grant has
    not yet been cleaned up (expire_disclosures) counts for nothing.
    """
    seeing = {case_id: {agency_id} for case_id, agency_id in case_agencies.items()}
    if not case_agencies:
        return seeing
    case_ids = list(case_agencies)
    grants = set(
        CaseGroupObjectPermission.objects.filter(
            content_object__in=case_ids, permission__codename=CATEGORY_PERMISSIONS[PLAN_CATEGORY]
        ).values_list("content_object_id", "group__name")
    )
    in_force = (
        Disclosure.objects.active()
        .filter(case__in=case_ids, recipient__is_active=True)
        .values_list("case_id", "recipient_id", "recipient__code", "categories")
    )
    for case_id, recipient_id, recipient_code, categories in in_force:
        if PLAN_CATEGORY in categories and (case_id, f"{GROUP_PREFIX}{recipient_code}") in grants:
            seeing[case_id].add(recipient_id)
    return seeing


def responsible_agencies(case: Case) -> list[Agency]:
    """The agencies that may own an action of ``case``, by name."""
    ids = plan_agency_ids({case.pk: case.agency_id})[case.pk]
    return list(Agency.objects.filter(pk__in=ids, is_active=True).order_by("name"))


def casework_members(agency_ids: Iterable[int]) -> list[Membership]:
    """Active handläggare and samordnare of the agencies: who may own an action there."""
    return list(
        Membership.objects.active()
        .filter(agency__in=list(agency_ids), role__in=CASEWORK_ROLES, user__is_active=True)
        .select_related("user", "agency")
        .order_by("agency__name", "user__first_name", "user__last_name", "user__username")
    )


def _is_casework_member(user: User, agency_id: int) -> bool:
    return (
        user.is_active
        and Membership.objects.active()
        .filter(user=user, agency_id=agency_id, role__in=CASEWORK_ROLES)
        .exists()
    )


@dataclass(frozen=True)
class PlanRights:
    """What one user may do with one case's plan, worked out once per request.

    ``managing`` maps each agency that sees the plan and in which the user does casework to the
    user's membership there: the agencies whose actions the user may close and reassign.
    """

    access: CaseAccess | None
    sees: bool
    can_add: bool
    managing: dict[int, Membership] = field(default_factory=dict)
    assignable: list[Agency] = field(default_factory=list)
    # The agencies that see the plan now; an open action of any other agency is orphaned.
    seeing: frozenset[int] = frozenset()

    def may_manage(self, action: Action) -> bool:
        return self.sees and action.agency_id in self.managing

    def is_orphaned(self, action: Action) -> bool:
        """The action's agency no longer sees the plan (its disclosure ended), so nobody there can
        close it."""
        return self.sees and action.agency_id not in self.seeing

    def may_strike_orphan(self, action: Action) -> bool:
        """The owning agency's caseworkers may strike an orphaned action, and only strike it: it is not
        theirs to call done. Without this it would stay open, and overdue, for ever."""
        if self.access is None or self.access.via != "owner" or not self.is_orphaned(action):
            return False
        return self.access.case.agency_id in self.managing

    def membership_for(self, action: Action) -> Membership | None:
        """The membership the user acts in on ``action``: its own agency's, or for an orphaned action
        the owning agency's."""
        if self.may_manage(action):
            return self.managing[action.agency_id]
        if self.may_strike_orphan(action) and self.access is not None:
            return self.managing[self.access.case.agency_id]
        return None


def plan_rights(user: User, access: CaseAccess | None) -> PlanRights:
    if not sees_plan(access) or access is None:
        return PlanRights(access=access, sees=False, can_add=False)
    if access.via == "emergency" or access.membership is None:
        # Emergency access is read-only: it never adds, closes or reassigns anything.
        return PlanRights(access=access, sees=True, can_add=False)
    seeing = plan_agency_ids({access.case.pk: access.case.agency_id})[access.case.pk]
    memberships = (
        Membership.objects.active()
        .filter(user=user, role__in=CASEWORK_ROLES, agency__in=seeing)
        .select_related("agency")
    )
    managing = {membership.agency_id: membership for membership in memberships}
    agencies = list(Agency.objects.filter(pk__in=seeing, is_active=True).order_by("name"))
    if access.via != "owner":
        # A disclosed-to agency takes on work itself; it does not hand work to others.
        agencies = [agency for agency in agencies if agency.pk in managing]
    return PlanRights(
        access=access,
        sees=True,
        can_add=bool(agencies),
        managing=managing,
        assignable=agencies,
        seeing=frozenset(seeing),
    )


# --- Changes --------------------------------------------------------------------------------------------


def _audit(
    action: str,
    case: Case,
    *,
    acting_user: User,
    membership: Membership | None,
    request: HttpRequest | None,
    details: dict[str, object],
    reason: str = "",
) -> None:
    record_event(
        action,
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=reason,
        details=details,
    )


def _acting_in(membership: Membership, acting_user: User) -> bool:
    return membership.user_id == acting_user.pk and membership.role in CASEWORK_ROLES


@transaction.atomic
def do_add_action(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    agency: Agency,
    owner: User,
    due_on: datetime.date,
    description: str,
    request: HttpRequest | None = None,
) -> Action:
    """Add an action to the case's plan, owned by ``owner`` for ``agency``; the owner is notified
    unless they added it themselves. ``membership`` is the agency the acting user works in."""
    rights = plan_rights(acting_user, case_access(acting_user, case))
    if (
        not rights.can_add
        or not _acting_in(membership, acting_user)
        or membership.agency_id not in rights.managing
    ):
        raise CaseActionError(_("Du kan inte lägga till åtgärder i det här ärendets åtgärdsplan."))
    if membership.agency_id != case.agency_id and agency.pk != membership.agency_id:
        raise CaseActionError(_("Er myndighet kan bara lägga till åtgärder som den själv ansvarar för."))
    if agency.pk not in {candidate.pk for candidate in rights.assignable}:
        raise CaseActionError(
            _("Den myndigheten kan inte ansvara för åtgärder här: skyddsinsatser är inte utlämnade dit.")
        )
    if not _is_casework_member(owner, agency.pk):
        raise CaseActionError(
            _("Den ansvarige måste vara aktiv handläggare eller samordnare vid den ansvariga myndigheten.")
        )
    if case.status == CaseStatus.CLOSED:
        raise CaseActionError(_("Ärendet är avslutat: öppna det igen för att lägga till åtgärder."))
    text = description.strip()
    if not text:
        raise CaseActionError(_("Beskriv åtgärden."))
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise CaseActionError(
            _("Beskrivningen får vara högst %(limit)s tecken.") % {"limit": DESCRIPTION_MAX_LENGTH}
        )
    if due_on < today():
        raise CaseActionError(_("Datumet har redan passerat."))
    action = Action(case=case, agency=agency, owner=owner, due_on=due_on, created_by=acting_user)
    CaseVault.for_case(case).seal(action, "description", text)
    action.save(force_insert=True)
    notify([owner], NotificationKind.ACTION_ASSIGNED, action=action, exclude=acting_user)
    _audit(
        "action.add",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"action": str(action.pk), "agency": agency.code, "owner": str(owner.public_id)},
    )
    return action


def _locked_open(action: Action) -> Action:
    """The action's row, locked, so two caseworkers cannot both close it (or close and reassign)."""
    locked = (
        Action.objects.select_for_update(of=("self",))
        .select_related("case__agency", "agency")
        .get(pk=action.pk)
    )
    if locked.status != ActionStatus.OPEN:
        raise CaseActionError(_("Åtgärden är redan avslutad."))
    return locked


def _check_action_owner_rule(
    action: Action, acting_user: User, membership: Membership, *, striking: bool = False
) -> None:
    """The action-owner rule: the acting user works, in ``membership``, for the action's own agency,
    and that agency still sees the case's plan. The one exception: an orphaned action (its agency no
    longer sees the plan) may be struck, ``striking``, by a caseworker of the agency owning the case."""
    rights = plan_rights(acting_user, case_access(acting_user, action.case))
    if not _acting_in(membership, acting_user):
        allowed = False
    elif rights.may_manage(action):
        allowed = membership.agency_id == action.agency_id
    else:
        allowed = (
            striking and rights.may_strike_orphan(action) and membership.agency_id == action.case.agency_id
        )
    if not allowed:
        raise CaseActionError(
            _("Bara den ansvariga myndighetens handläggare och samordnare kan ändra åtgärden.")
        )


@transaction.atomic
def do_close_action(
    action: Action,
    *,
    acting_user: User,
    membership: Membership,
    status: str,
    request: HttpRequest | None = None,
) -> Action:
    """Close an open action as done or cancelled: only its own agency's caseworkers may."""
    if status not in CLOSING_STATUSES:
        raise CaseActionError(_("Välj om åtgärden är klar eller struken."))
    locked = _locked_open(action)
    _check_action_owner_rule(locked, acting_user, membership, striking=status == ActionStatus.CANCELLED)
    locked.status = status
    locked.closed_by = acting_user
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_by", "closed_at"])
    _audit(
        "action.close",
        locked.case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"action": str(locked.pk), "agency": locked.agency.code, "status": status},
    )
    return locked


@transaction.atomic
def do_reassign_action(
    action: Action,
    *,
    acting_user: User,
    membership: Membership,
    owner: User,
    request: HttpRequest | None = None,
) -> Action:
    """Give an open action to another caseworker of the same agency, who is notified."""
    locked = _locked_open(action)
    _check_action_owner_rule(locked, acting_user, membership)
    if not _is_casework_member(owner, locked.agency_id):
        raise CaseActionError(
            _("Den ansvarige måste vara aktiv handläggare eller samordnare vid den ansvariga myndigheten.")
        )
    if owner.pk == locked.owner_id:
        raise CaseActionError(_("Åtgärden har redan den ansvarige."))
    previous = User.objects.filter(pk=locked.owner_id).values_list("public_id", flat=True).first()
    locked.owner = owner
    locked.save(update_fields=["owner"])
    notify([owner], NotificationKind.ACTION_ASSIGNED, action=locked, exclude=acting_user)
    _audit(
        "action.reassign",
        locked.case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"action": str(locked.pk), "from": str(previous), "to": str(owner.public_id)},
    )
    return locked


# --- The audited read -------------------------------------------------------------------------------------


@dataclass(repr=False)
class ActionEntry(_Redacted):
    action: Action
    description: str
    is_overdue: bool
    may_manage: bool
    # The action's agency no longer sees the plan; ``may_strike`` says the user may strike it anyway.
    is_orphaned: bool = False
    may_strike: bool = False
    # Whom the action may be given to instead (its agency's other caseworkers), for those who manage it.
    other_owners: list[Membership] = field(default_factory=list)


@dataclass(repr=False)
class ActionPlan(_Redacted):
    open: list[ActionEntry] = field(default_factory=list)
    closed: list[ActionEntry] = field(default_factory=list)


def _plan_order(action: Action) -> tuple[bool, datetime.date, datetime.datetime]:
    # Ascending due dates already put the overdue first; said explicitly, so a change of order keeps it.
    return (not is_overdue(action), action.due_on, action.created_at)


@transaction.atomic
def read_action_plan(case: Case, *, user: User, request: HttpRequest | None) -> ActionPlan:
    """The case's action plan with its descriptions, after writing the audit event that says so.

    The rights are worked out here from ``case_access``, not taken from the caller. If the event cannot
    be written, AuditWriteError leaves this function before anything is decrypted (fail closed).
    """
    access = case_access(user, case)
    if access is None:
        raise Http404("Ärendet finns inte.")
    rights = plan_rights(user, access)
    if not rights.sees:
        raise PermissionDenied
    actions = list(Action.objects.filter(case=case).select_related("agency", "owner", "closed_by"))
    record_event(
        "action.read",
        actor=user,
        membership=access.membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=access.via,
        details={"actions": sorted(str(action.pk) for action in actions), "count": len(actions)},
    )
    vault = CaseVault.for_case(case)
    members_by_agency: dict[int, list[Membership]] = {}
    for member in casework_members(rights.managing.keys()) if rights.managing else []:
        members_by_agency.setdefault(member.agency_id, []).append(member)
    plan = ActionPlan()
    day = today()
    for action in sorted(actions, key=_plan_order):
        manages = rights.may_manage(action) and action.status == ActionStatus.OPEN
        entry = ActionEntry(
            action=action,
            description=vault.open(action, "description"),
            is_overdue=is_overdue(action, day),
            may_manage=manages,
            is_orphaned=action.status == ActionStatus.OPEN and rights.is_orphaned(action),
            may_strike=action.status == ActionStatus.OPEN and rights.may_strike_orphan(action),
            other_owners=[
                member
                for member in members_by_agency.get(action.agency_id, [])
                if member.user_id != action.owner_id
            ]
            if manages
            else [],
        )
        (plan.open if action.status == ActionStatus.OPEN else plan.closed).append(entry)
    plan.closed.sort(key=lambda entry: entry.action.closed_at or entry.action.created_at, reverse=True)
    return plan


# --- For the start pages: references, dates and statuses only ----------------------------------------------


def keep_plan_visible(actions: list[Action]) -> list[Action]:
    """The actions whose own agency still sees their case's plan (``case`` must be loaded). A
    disclosure revoked or run out takes the agency's actions off its lists with the case itself."""
    seeing = plan_agency_ids({action.case_id: action.case.agency_id for action in actions})
    return [action for action in actions if action.agency_id in seeing[action.case_id]]
