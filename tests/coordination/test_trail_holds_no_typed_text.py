"""Nothing typed reaches the audit tables (issue 12: "check every other free-text column of the audit
tables").

Two guards, each tried here. First the walk: every action that takes typed text (a person's data, the
summary, contributions, risk and measure notes, disclosure justifications, emergency reasons and
review comments, referral requests and rejections, meeting minutes and decisions, action plan
descriptions, the note beside a PDF download) is run with a marker in each text; afterwards no column
of the trail (``access_auditevent``) or of django-auditlog's ``LogEntry`` holds the marker. Second the
structural guard in ``record_event``: a reason or a details string that is not a code (whitespace, or
longer than 64 characters) is refused, so a future action that passes typed text fails closed.
"""

from __future__ import annotations

import datetime

import pytest
from auditlog.models import LogEntry
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from access.audit import AuditWriteError, record_event
from access.models import AuditEvent, Role
from cases.choices import InformationCategory
from cases.sharing import do_request_emergency_access, do_review_emergency_access
from coordination.action_plan import do_add_action
from coordination.meetings import do_add_meeting_action, do_record_minutes
from coordination.referrals import do_reject_referral, do_send_referral
from tests.cases.marker_data import MARKER, create_marked_cases
from tests.coordination.meetings_setup import World, build_world, disclose, member, put_on_agenda, schedule

pytestmark = [pytest.mark.django_db]


def dumped(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a model's own table
        return repr(cursor.fetchall())


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def test_no_typed_text_of_any_action_reaches_the_trail_or_auditlog(world: World, login_client) -> None:
    create_marked_cases(world.handlaggare, count=1)
    case, owner = world.case, world.handlaggare
    text = f"{MARKER} text med mellanslag och Åsa Öberg"
    kwargs = {"acting_user": owner.user, "membership": owner}

    # Sharing: a disclosure's justification, an emergency reason and its review comment.
    disclose(case, owner, world.police)
    emergency = do_request_emergency_access(
        case, acting_user=world.jour.user, membership=world.jour, reason=f"{text} (nödåtkomst)"
    )
    do_review_emergency_access(
        emergency,
        acting_user=world.granskare.user,
        membership=world.granskare,
        comment=f"{text} (granskning)",
    )
    # (Referral requests and rejections: the next test.)
    # Meetings: minutes, decisions, a meeting action; the case's action plan.
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, case)
    organiser = {"acting_user": world.samordnare.user, "membership": world.samordnare}
    do_record_minutes(
        item, minutes=f"{text} (protokoll)", decisions=f"{text} (beslut)", based_on="", **organiser
    )
    due = timezone.localdate() + datetime.timedelta(days=7)
    do_add_meeting_action(
        item, owner_membership=world.polis, due_on=due, description=f"{text} (mötesåtgärd)", **organiser
    )
    do_add_action(
        case, agency=owner.agency, owner=owner.user, due_on=due, description=f"{text} (åtgärd)", **kwargs
    )
    # The note beside a PDF download, through the view.
    url = reverse("coordination:case_summary_pdf", kwargs={"reference": case.reference})
    response = login_client(world.samordnare.user).post(
        url, {"reason": "overlamning", "note": f"{text} (pdf)"}
    )
    assert response["Content-Type"] == "application/pdf"

    assert AuditEvent.objects.count() > 30 and LogEntry.objects.count() > 20
    for table in (AuditEvent._meta.db_table, LogEntry._meta.db_table):
        content = dumped(table)
        assert MARKER not in content, f"{table} holds typed text"
        assert "Öberg" not in content, f"{table} holds a name"


def test_a_referral_request_and_its_rejection_reach_neither_table(world: World) -> None:
    case, owner = world.case, world.handlaggare
    disclose(case, owner, world.shelter, categories=[InformationCategory.SUMMARY, InformationCategory.RISK])
    receiver = member(world.shelter, Role.SAMORDNARE, "jourmottagare")
    referral = do_send_referral(
        case,
        acting_user=owner.user,
        membership=owner,
        recipient=world.shelter,
        request_text=f"{MARKER} behöver skyddat boende snarast",
    )
    do_reject_referral(referral, acting_user=receiver.user, reason=f"{MARKER} inga platser just nu")
    for table in (AuditEvent._meta.db_table, LogEntry._meta.db_table):
        assert MARKER not in dumped(table), table


@pytest.mark.parametrize(
    ("reason", "details", "where"),
    [
        ("Anna Andersson hotad", {}, "reason"),
        ("x" * 65, {}, "reason"),
        ("", {"note": "ringde polisen i går"}, "details.note"),
        ("", {"fields": ["name", "en mening här"]}, "details.fields[1]"),
        ("", {"nested": {"deep": "två ord"}}, "details.nested.deep"),
        ("", {"en nyckel": 1}, "details key"),
        ("", {"when": datetime.date(2026, 12, 3)}, "details.when (date)"),
    ],
)
def test_record_event_refuses_anything_but_codes_without_echoing_it(
    world: World, reason: str, details: dict[str, object], where: str
) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(AuditWriteError) as refused, transaction.atomic():
        record_event("case.read", actor=world.handlaggare.user, reason=reason, details=details)
    assert where in str(refused.value)
    for value in ("Anna", "ringde", "mening", "två ord", "xxxxxxxx"):
        assert value not in str(refused.value)
    assert AuditEvent.objects.count() == before


def test_codes_references_ids_dates_and_usernames_are_kept(world: World) -> None:
    details = {
        "references": [world.case.reference],
        "meeting": "0b6e7d62-5f0e-4f57-9d38-0f5a2a6b3b11",
        "filters": {"username": "anna.lind@kommun.se", "from": "2026-12-01"},
        "at": timezone.now().isoformat(),
        "rows": 12,
        "found": False,
        "withheld": None,
    }
    with transaction.atomic():
        event = record_event("case.read", actor=world.handlaggare.user, reason="osl_10_2", details=details)
    event.refresh_from_db()
    assert (event.reason, event.details) == ("osl_10_2", details)
