"""The proactive review: each flag raised when it should be and not when it should not, in Swedish local
time, within the granskare's scope and period; and the audit entry of the review."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from access.compliance.anomalies import (
    HEAVY_READER_FACTOR,
    HEAVY_READER_MINIMUM,
    outside_office_hours,
)
from access.models import Agency, AuditEvent, Role, User
from tests.access.compliance_events import local, make_event
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# Monday 9 to Sunday 15 June 2025: summer time, UTC+2.
WEEK = {"fran": "2025-06-09", "till": "2025-06-15"}


@pytest.fixture
def client(granskare: User, login_client):
    return login_client(granskare)


def review(client, **period: str):
    response = client.get(reverse("compliance:anomalies"), period or WEEK)
    assert response.status_code == 200
    assert response.context["form"].is_valid(), response.context["form"].errors
    return response.context["result"]


def colleague(agency: Agency, username: str, role: str = Role.HANDLAGGARE) -> User:
    return MembershipFactory.create(user=UserFactory.create(username=username), agency=agency, role=role).user


def reads(user: User, cases: int, *, role: str = "handlaggare", prefix: str | None = None) -> None:
    for number in range(cases):
        make_event(
            actor=user,
            role=role,
            reference=f"VR-{prefix or user.username[:4].upper()}-{number:03d}",
            at=local(2025, 6, 10, 10),
        )


# --- (a) Many more cases than colleagues ----------------------------------------------------------------


def test_the_constants_are_as_documented() -> None:
    assert (HEAVY_READER_FACTOR, HEAVY_READER_MINIMUM) == (3, 20)


def test_a_user_reading_far_more_cases_than_colleagues_is_flagged(agency: Agency, client) -> None:
    for username, cases in (("kollega-a", 5), ("kollega-b", 6), ("kollega-c", 7)):
        reads(colleague(agency, username), cases)
    heavy = colleague(agency, "storlasare")
    reads(heavy, 25)
    # The same case read again counts once.
    make_event(actor=heavy, reference="VR-STOR-000", at=local(2025, 6, 11, 10))
    flagged = review(client).heavy_readers
    assert [
        (reader.username, reader.cases, reader.reads, reader.median, reader.colleagues) for reader in flagged
    ] == [("storlasare", 25, 26, 6.5, 4)]


def test_below_the_minimum_nobody_is_flagged(agency: Agency, client) -> None:
    for username in ("kollega-a", "kollega-b", "kollega-c"):
        reads(colleague(agency, username), 1)
    reads(colleague(agency, "nastan"), HEAVY_READER_MINIMUM - 1)
    assert review(client).heavy_readers == []


def test_within_three_times_the_median_nobody_is_flagged(agency: Agency, client) -> None:
    for username in ("kollega-a", "kollega-b", "kollega-c"):
        reads(colleague(agency, username), 10)
    reads(colleague(agency, "flitig"), 30)  # exactly three times the median of 10, 10, 10, 30
    assert review(client).heavy_readers == []


def test_colleagues_are_those_of_the_same_agency_and_role(agency: Agency, client) -> None:
    for username in ("kollega-a", "kollega-b", "kollega-c"):
        reads(colleague(agency, username), 2)
    # The only samordnare: compared with no one but themselves.
    reads(colleague(agency, "samordnare-1", Role.SAMORDNARE), 25, role="samordnare")
    assert review(client).heavy_readers == []


# --- (b) Protected identity -----------------------------------------------------------------------------


def test_reads_of_protected_identities_are_listed(handlaggare: User, client) -> None:
    make_event(
        actor=handlaggare, reference="VR-SKYD-11", details={"protected_identity": True}, at=local(2025, 6, 10)
    )
    make_event(
        actor=handlaggare, reference="VR-SKYD-11", details={"protected_identity": True}, at=local(2025, 6, 11)
    )
    make_event(
        actor=handlaggare,
        reference="VR-OPEN-22",
        details={"protected_identity": False},
        at=local(2025, 6, 10),
    )
    make_event(actor=handlaggare, reference="VR-NONE-33", details={}, at=local(2025, 6, 10))
    make_event(
        "case.summary.save",
        actor=handlaggare,
        reference="VR-SAVE-44",
        details={"protected_identity": True},
        at=local(2025, 6, 10),
    )
    groups = review(client).protected_identity.groups
    assert [(group.reference, group.username, group.events, group.first, group.last) for group in groups] == [
        ("VR-SKYD-11", "handlaggare", 2, local(2025, 6, 10), local(2025, 6, 11))
    ]


# --- (c) Outside office hours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "flagged"),
    [
        (local(2025, 6, 10, 6, 59), True),
        (local(2025, 6, 10, 7, 0), False),
        # 05:30 UTC: outside office hours in UTC, but 07:30 in Sweden in summer.
        (local(2025, 6, 10, 7, 30), False),
        (local(2025, 6, 10, 17, 59), False),
        (local(2025, 6, 10, 18, 0), True),
        (local(2025, 6, 10, 23, 30), True),
        (local(2025, 6, 14, 12, 0), True),  # Saturday
        (local(2025, 6, 15, 12, 0), True),  # Sunday
        (local(2025, 6, 13, 12, 0), False),  # Friday
    ],
)
def test_reads_outside_office_hours_are_listed(
    moment: datetime.datetime, flagged: bool, handlaggare: User, client
) -> None:
    make_event(actor=handlaggare, reference="VR-TIME-11", at=moment)
    make_event("case.open", actor=handlaggare, reference="VR-OPEN-22", at=local(2025, 6, 10, 3))
    groups = review(client).outside_office_hours.groups
    assert [group.reference for group in groups] == (["VR-TIME-11"] if flagged else [])


def test_winter_time_is_local_time_too(handlaggare: User, client) -> None:
    # Monday 13 January 2025, UTC+1: 06:30 local is 05:30 UTC, 07:30 local is 06:30 UTC.
    make_event(actor=handlaggare, reference="VR-EARLY-11", at=local(2025, 1, 13, 6, 30))
    make_event(actor=handlaggare, reference="VR-OFFICE-22", at=local(2025, 1, 13, 7, 30))
    groups = review(client, fran="2025-01-13", till="2025-01-13").outside_office_hours.groups
    assert [group.reference for group in groups] == ["VR-EARLY-11"]


def test_the_stretches_outside_office_hours_join_across_nights_and_weekends() -> None:
    # Friday 28 March to Monday 31 March 2025; summer time begins early on Sunday 30 March.
    stretches = outside_office_hours(datetime.date(2025, 3, 28), datetime.date(2025, 3, 31))
    assert stretches == [
        (local(2025, 3, 28, 0), local(2025, 3, 28, 7)),
        (local(2025, 3, 28, 18), local(2025, 3, 31, 7)),
        (local(2025, 3, 31, 18), local(2025, 4, 1, 0)),
    ]
    # Monday's 07:00 is 05:00 UTC, no longer 06:00.
    assert stretches[1][1].astimezone(datetime.UTC).hour == 5


# --- (d) Without disclosure, and emergency access -------------------------------------------------------


def test_reads_without_a_disclosure_are_listed(handlaggare: User, other_agency: Agency, client) -> None:
    police = colleague(other_agency, "polis")
    at = local(2025, 6, 10, 10)
    make_event(actor=police, agency="polisen", reference="VR-NOD-11", reason="emergency", at=at)
    make_event(actor=police, agency="polisen", reference="VR-ODD-22", reason="owner", at=at)
    make_event(actor=police, agency="polisen", reference="VR-DISC-33", reason="disclosure", at=at)
    make_event(actor=handlaggare, reference="VR-OWN-44", reason="owner", at=at)
    groups = review(client).without_disclosure.groups
    assert sorted((group.reference, group.reason) for group in groups) == [
        ("VR-NOD-11", "emergency"),
        ("VR-ODD-22", "owner"),
    ]


def test_emergency_accesses_are_listed(other_agency: Agency, client) -> None:
    police = colleague(other_agency, "polis")
    make_event(
        "case.emergency_access",
        actor=police,
        agency="polisen",
        reference="VR-NOD-11",
        reason="nodatkomst",
        at=local(2025, 6, 10),
    )
    make_event(
        "case.emergency_search",
        actor=police,
        agency="polisen",
        reference="VR-SOK-22",
        reason="",
        at=local(2025, 6, 10),
    )
    groups = review(client).emergency.groups
    assert [(group.reference, group.username, group.reason_label) for group in groups] == [
        ("VR-NOD-11", "polis", "Nödåtkomst")
    ]


def test_the_flags_link_to_the_case_history_and_the_user(other_agency: Agency, client) -> None:
    police = colleague(other_agency, "polis")
    make_event(
        actor=police, agency="polisen", reference="VR-NOD-11", reason="emergency", at=local(2025, 6, 10)
    )
    response = client.get(reverse("compliance:anomalies"), WEEK)
    body = response.content.decode()
    assert f'href="{reverse("compliance:case_history", args=["VR-NOD-11"])}"' in body
    assert f'href="{reverse("compliance:user_activity", args=["polis"])}"' in body


def test_other_agencies_events_are_never_flagged(other_agency: Agency, client) -> None:
    police = colleague(other_agency, "polis")
    make_event(
        actor=police,
        agency="polisen",
        owner="polisen",
        reference="VR-THEIRS-11",
        reason="emergency",
        details={"protected_identity": True},
        at=local(2025, 6, 14, 23),
    )
    result = review(client)
    for listed in (result.protected_identity, result.outside_office_hours, result.without_disclosure):
        assert listed.groups == []


# --- Period, bad input, audit ---------------------------------------------------------------------------


def test_the_default_period_is_the_last_30_days(other_agency: Agency, client) -> None:
    police = colleague(other_agency, "polis")
    now = timezone.now()
    make_event(
        actor=police,
        agency="polisen",
        reference="VR-RECENT-11",
        reason="emergency",
        at=now - datetime.timedelta(days=2),
    )
    make_event(
        actor=police,
        agency="polisen",
        reference="VR-OLD-22",
        reason="emergency",
        at=now - datetime.timedelta(days=40),
    )
    response = client.get(reverse("compliance:anomalies"))
    start, end = response.context["period"]
    assert (end - start).days == 29
    assert end == timezone.localdate()
    assert [group.reference for group in response.context["result"].without_disclosure.groups] == [
        "VR-RECENT-11"
    ]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"fran": "2025-06-15", "till": "2025-06-09"}, "Till-datumet kan inte ligga före från-datumet."),
        ({"fran": "2024-01-01", "till": "2025-06-09"}, "Perioden får vara högst ett år."),
        ({"fran": "juni"}, "Ange datumet som ÅÅÅÅ-MM-DD."),
    ],
)
def test_a_bad_period_gets_a_swedish_message(period: dict[str, str], message: str, client) -> None:
    response = client.get(reverse("compliance:anomalies"), period)
    assert message in response.content.decode()
    assert response.context["result"] is None
    assert not AuditEvent.objects.filter(action="audit.anomalies").exists()


def test_the_review_is_recorded_with_its_period(granskare: User, client) -> None:
    review(client)
    event = AuditEvent.objects.get(action="audit.anomalies")
    assert event.actor == granskare
    assert event.details == {"from": "2025-06-09", "to": "2025-06-15"}
