"""The start page: one part per role the user holds, in any of their agencies.

What it shows is references, dates, statuses, agency names and counts, never a person's name or a free
text: those are reads of sealed data nobody asked for here (the case's coordination page shows them,
audited). Every list is scoped as the case list is, by ``Case.objects.visible_to``, and action lists
also by the action plan's visibility rule (coordination/action_plan.py), so an agency whose disclosure
ended loses its actions from its lists together with the case. The number of queries does not grow
with the number of rows.

- handläggare and samordnare: my open cases, cases disclosed to the agency, my open actions (overdue
  first), incoming referrals to my agencies, upcoming meetings of my agencies, risk reviews due within
  14 days or past (the latest assessment of each of my cases);
- samordnare, across the agencies they coordinate: every open action of the agency on an open case
  (overdue first), risk reviews of all the agency's open cases, and the meetings the agency organises
  in the next 14 days ("att förbereda") with their number of agenda items;
- chef: per agency they manage (the team), the number of open cases, open actions and overdue actions:
  counts of that agency's own cases and actions only, never a reference or a name. A chef reaches no
  case (cases/permissions.py), so the counts are made in the database and no case row is read;
- granskare: the emergency accesses awaiting review; systemadministratör: the way to the administration.

Risk reviews are the owning agency's work (only it records assessments), so they are listed for the
cases an agency owns, where the risk category is always visible, not for cases disclosed to it.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from access.models import CASEWORK_ROLES, Agency, Membership, Role, User
from cases.choices import CaseStatus
from cases.models import Case, Disclosure, RiskAssessment
from cases.views.emergency import emergency_accesses_for_review
from coordination.action_plan import keep_plan_visible, plan_agency_ids
from coordination.models import (
    Action,
    ActionStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    ReferralStatus,
)
from coordination.nulagesbild.models import NulagesbildDraft, NulagesbildRelease
from coordination.referrals import received_referrals

# How far ahead a risk review or a meeting to prepare shows up.
LOOKAHEAD = datetime.timedelta(days=14)
OPEN_CASE_STATUSES = [status for status in CaseStatus.values if status != CaseStatus.CLOSED]


@dataclass(frozen=True)
class ActionRow:
    reference: str
    due_on: datetime.date
    is_overdue: bool


@dataclass(frozen=True)
class ReferralRow:
    referral_id: uuid.UUID
    reference: str
    from_agency: str
    sent_at: datetime.datetime


@dataclass(frozen=True)
class MeetingRow:
    meeting_id: uuid.UUID
    starts_at: datetime.datetime
    kind: str
    is_emergency: bool
    organiser: str
    agenda_count: int


@dataclass(frozen=True)
class ReviewRow:
    reference: str
    review_on: datetime.date
    is_overdue: bool


@dataclass(frozen=True)
class AgencyCounts:
    agency: str
    open_cases: int
    open_actions: int
    overdue_actions: int


@dataclass
class CaseworkOverview:
    my_cases: list[str]
    disclosed_cases: list[str]
    my_actions: list[ActionRow]
    agency_actions: list[ActionRow]
    referrals: list[ReferralRow]
    meetings: list[MeetingRow]
    meetings_to_prepare: list[MeetingRow]
    risk_reviews: list[ReviewRow]


def _actions(
    user: User, casework: list[int], coordinating: list[int], today: datetime.date
) -> tuple[list[ActionRow], list[ActionRow]]:
    """(mine, my coordinated agencies'): open actions on open cases the user may see, overdue first."""
    wanted = Q(owner=user, agency__in=casework)
    if coordinating:
        wanted |= Q(agency__in=coordinating)
    actions = keep_plan_visible(
        list(
            Action.objects.filter(status=ActionStatus.OPEN, case__in=Case.objects.visible_to(user).open())
            .filter(wanted)
            .select_related("case")
            # Ascending due dates put the overdue first; then by due date.
            .order_by("due_on", "case__reference", "created_at")
        )
    )

    def row(action: Action) -> ActionRow:
        return ActionRow(action.case.reference, action.due_on, action.due_on < today)

    mine = [row(action) for action in actions if action.owner_id == user.pk and action.agency_id in casework]
    agency_wide = [row(action) for action in actions if action.agency_id in coordinating]
    return mine, agency_wide


def _referrals(user: User, casework: list[int]) -> list[ReferralRow]:
    """Referrals sent to the user's agencies and not yet answered, only while a disclosure to the
    receiving agency is in force (coordination.referrals.received_referrals: emergency access to the
    case does not show a referral)."""
    incoming = (
        received_referrals(user)
        .filter(to_agency__in=casework, status=ReferralStatus.SENT)
        .select_related("case", "from_agency")
        .order_by("sent_at")
    )
    return [
        ReferralRow(referral.pk, referral.case.reference, referral.from_agency.name, referral.sent_at)
        for referral in incoming
    ]


def _meetings(
    casework: list[int], coordinating: list[int], now: datetime.datetime
) -> tuple[list[MeetingRow], list[MeetingRow]]:
    """(upcoming meetings of the user's agencies, meetings their coordinated agencies organise soon)."""
    participates = Exists(
        Meeting.participants.through.objects.filter(meeting=OuterRef("pk"), agency__in=casework)
    )
    meetings = (
        Meeting.objects.filter(status=MeetingStatus.PLANNED, starts_at__gt=now)
        .annotate(participates=participates, agenda_count=Count("agenda"))
        .filter(Q(participates=True) | Q(organiser__in=casework))
        .select_related("organiser")
        .order_by("starts_at")
    )
    upcoming: list[MeetingRow] = []
    to_prepare: list[MeetingRow] = []
    for meeting in meetings:
        row = MeetingRow(
            meeting.pk,
            meeting.starts_at,
            meeting.get_kind_display(),
            meeting.kind == MeetingKind.EMERGENCY,
            meeting.organiser.name,
            meeting.agenda_count,
        )
        upcoming.append(row)
        if meeting.organiser_id in coordinating and meeting.starts_at <= now + LOOKAHEAD:
            to_prepare.append(row)
    return upcoming, to_prepare


def _risk_reviews(
    user: User, casework: list[int], coordinating: list[int], today: datetime.date
) -> list[ReviewRow]:
    """Open cases whose latest risk assessment is due for review within LOOKAHEAD, or past due: the
    user's own cases, and all cases of the agencies they coordinate."""
    latest = (
        RiskAssessment.objects.filter(case=OuterRef("pk"))
        .order_by("-assessed_on", "-created_at")
        .values("next_review_on")[:1]
    )
    scope = Q(responsible=user, agency__in=casework)
    if coordinating:
        scope |= Q(agency__in=coordinating)
    due = (
        Case.objects.visible_to(user)
        .open()
        .filter(scope)
        .annotate(review_on=Subquery(latest))
        .filter(review_on__lte=today + LOOKAHEAD)
        .order_by("review_on", "reference")
        .values_list("reference", "review_on")
    )
    return [ReviewRow(reference, review_on, review_on < today) for reference, review_on in due]


def casework_overview(user: User, memberships: list[Membership]) -> CaseworkOverview:
    casework = sorted({m.agency_id for m in memberships if m.role in CASEWORK_ROLES})
    coordinating = sorted({m.agency_id for m in memberships if m.role == Role.SAMORDNARE})
    today = timezone.localdate()
    now = timezone.now()
    # References only: a name on the start page would be a read of personal data nobody asked for.
    my_cases = list(
        Case.objects.visible_to(user)
        .open()
        .filter(responsible=user)
        .order_by("-last_entry_on", "reference")
        .values_list("reference", flat=True)
    )
    in_force = Disclosure.objects.active().filter(case=OuterRef("pk"), recipient__in=casework)
    disclosed_cases = list(
        Case.objects.visible_to(user)
        .exclude(agency__in=casework)
        .filter(Exists(in_force))
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    my_actions, agency_actions = _actions(user, casework, coordinating, today)
    meetings, to_prepare = _meetings(casework, coordinating, now)
    return CaseworkOverview(
        my_cases=my_cases,
        disclosed_cases=disclosed_cases,
        my_actions=my_actions,
        agency_actions=agency_actions,
        referrals=_referrals(user, casework),
        meetings=meetings,
        meetings_to_prepare=to_prepare,
        risk_reviews=_risk_reviews(user, casework, coordinating, today),
    )


def manager_counts(memberships: list[Membership]) -> list[AgencyCounts]:
    """Per agency the user manages: open cases, open actions and overdue actions. Counts only."""
    managed = sorted({m.agency_id for m in memberships if m.role == Role.CHEF})
    if not managed:
        return []
    today = timezone.localdate()
    agencies = (
        Agency.objects.filter(pk__in=managed)
        .annotate(open_cases=Count("cases", filter=Q(cases__status__in=OPEN_CASE_STATUSES)))
        .order_by("name")
    )
    # Ids and dates only, to apply the plan's visibility rule as the samordnare's list does; none is shown.
    rows = list(
        Action.objects.filter(agency__in=managed, status=ActionStatus.OPEN)
        .exclude(case__status=CaseStatus.CLOSED)
        .values_list("agency_id", "case_id", "case__agency_id", "due_on")
    )
    seeing = plan_agency_ids({case_id: case_agency for _agency, case_id, case_agency, _due in rows})
    open_actions: dict[int, int] = {}
    overdue: dict[int, int] = {}
    for agency_id, case_id, _case_agency, due_on in rows:
        if agency_id not in seeing[case_id]:
            continue
        open_actions[agency_id] = open_actions.get(agency_id, 0) + 1
        if due_on < today:
            overdue[agency_id] = overdue.get(agency_id, 0) + 1
    return [
        AgencyCounts(
            agency.name, agency.open_cases, open_actions.get(agency.pk, 0), overdue.get(agency.pk, 0)
        )
        for agency in agencies
    ]


@dataclass(frozen=True)
class NulagesbildOverview:
    releases: list[NulagesbildRelease]
    drafts_waiting: int


def nulagesbild_overview(shown: int = 3) -> NulagesbildOverview:
    """The newest releases and how many drafts wait for review (anonymised content only, not loaded)."""
    releases = list(NulagesbildRelease.objects.defer("content").order_by("-released_at")[:shown])
    return NulagesbildOverview(releases, NulagesbildDraft.objects.count())


@require_GET
@never_cache
def start(request: HttpRequest) -> HttpResponse:
    """The start page: one part for each role the user holds, in any of their agencies."""
    memberships = list(Membership.objects.active().filter(user=request.user.pk).select_related("agency"))
    roles = {membership.role for membership in memberships}
    is_caseworker = bool(roles & CASEWORK_ROLES)
    overview = (
        casework_overview(request.user, memberships)
        if is_caseworker and isinstance(request.user, User)
        else None
    )
    auditor_memberships = [membership for membership in memberships if membership.role == Role.GRANSKARE]
    awaiting_review = (
        emergency_accesses_for_review(auditor_memberships).awaiting_review().count()
        if auditor_memberships
        else 0
    )
    context = {
        "memberships": memberships,
        "overview": overview,
        "team_counts": manager_counts(memberships),
        "nulagesbild": nulagesbild_overview() if Role.CHEF in roles else None,
        "awaiting_review": awaiting_review,
        "is_caseworker": is_caseworker,
        "is_coordinator": Role.SAMORDNARE in roles,
        "is_manager": Role.CHEF in roles,
        "is_auditor": Role.GRANSKARE in roles,
        "is_administrator": Role.SYSTEMADMINISTRATOR in roles,
    }
    return render(request, "coordination/start.html", context)
