"""A small world for the meeting tests: the social services own a case with a summary; the police and
a women's shelter take part in meetings; each agency has caseworkers, and the social services a
samordnare, a chef and a granskare. Built through the real actions, so everything is sealed and
audited as in production."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from access.models import Agency, Membership, Role
from cases.actions import current_summary_number, do_save_summary
from cases.choices import InformationCategory, LegalBasis
from cases.models import Case, Disclosure
from cases.sharing import do_disclose_case
from coordination.meetings import do_add_to_agenda, do_schedule_meeting
from coordination.models import AgendaItem, Meeting, MeetingKind
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

MARKER_NAME = "Markör Åäö Exempelsson"
MARKER_NUMBER = "198112189876"
MARKER_NUMBER_SHOWN = "19811218-9876"
SUMMARY_TEXT = "ZZSNAPSHOT Läget är oförändrat för åäö sedan förra mötet."
DEFAULT_CATEGORIES = (InformationCategory.SUMMARY, InformationCategory.MEASURES)


def member(agency: Agency, role: str, username: str, **names: str) -> Membership:
    user = UserFactory.create(username=username, **names)
    membership: Membership = MembershipFactory.create(user=user, agency=agency, role=role)
    return membership


def save_summary(case: Case, membership: Membership, text: str) -> None:
    do_save_summary(
        case,
        acting_user=membership.user,
        membership=membership,
        text=text,
        based_on=current_summary_number(case),
    )


def disclose(
    case: Case,
    owner: Membership,
    recipient: Agency,
    categories: Iterable[str] = DEFAULT_CATEGORIES,
) -> Disclosure:
    return do_disclose_case(
        case,
        acting_user=owner.user,
        membership=owner,
        recipient=recipient,
        legal_basis=LegalBasis.NECESSARY,
        categories=list(categories),
        justification="Underlag till samverkansmöte",
    )


def schedule(
    organiser: Membership,
    participants: Iterable[Agency],
    *,
    kind: str = MeetingKind.ORDINARY,
    starts_at: datetime.datetime | None = None,
) -> Meeting:
    return do_schedule_meeting(
        acting_user=organiser.user,
        membership=organiser,
        starts_at=starts_at or timezone.now() + datetime.timedelta(days=2),
        kind=kind,
        participants=list(participants),
    )


def put_on_agenda(meeting: Meeting, organiser: Membership, case: Case) -> AgendaItem:
    return do_add_to_agenda(
        meeting, acting_user=organiser.user, membership=organiser, reference=case.reference
    )


def started(meeting: Meeting) -> Meeting:
    """As if the meeting's time had come (a meeting cannot be scheduled in the past)."""
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - datetime.timedelta(minutes=5))
    meeting.refresh_from_db()
    return meeting


@dataclass
class World:
    social: Agency
    police: Agency
    shelter: Agency
    samordnare: Membership  # social services
    handlaggare: Membership  # social services
    polis: Membership  # police handläggare
    police_samordnare: Membership
    jour: Membership  # women's shelter handläggare
    chef: Membership  # social services
    granskare: Membership  # social services
    case: Case


def build_world() -> World:
    social = AgencyFactory.create(code="soc-vuxen", name="Socialtjänsten vuxen")
    police = AgencyFactory.create(code="polisen", name="Polisen", police=True)
    shelter = AgencyFactory.create(code="kvinnojouren", name="Kvinnojouren", womens_shelter=True)
    handlaggare = member(social, Role.HANDLAGGARE, "handlaggare", first_name="Anna", last_name="Lind")
    case = open_case(handlaggare, name=MARKER_NAME, identity_number=MARKER_NUMBER)
    save_summary(case, handlaggare, SUMMARY_TEXT)
    return World(
        social=social,
        police=police,
        shelter=shelter,
        samordnare=member(social, Role.SAMORDNARE, "samordnare", first_name="Maja", last_name="Berg"),
        handlaggare=handlaggare,
        polis=member(police, Role.HANDLAGGARE, "polis", first_name="Johan", last_name="Ek"),
        police_samordnare=member(police, Role.SAMORDNARE, "polissamordnare"),
        jour=member(shelter, Role.HANDLAGGARE, "jour", first_name="Sara", last_name="Nilsson"),
        chef=member(social, Role.CHEF, "chef"),
        granskare=member(social, Role.GRANSKARE, "granskare"),
        case=case,
    )
