"""Every fetcher by id or reference answers an existing object outside the user's scope exactly as it
answers a random one: same status, same page, same number of queries (issue 12, "check every other
access_* fetcher"). The attacker is a handläggare and a granskare of an agency that has nothing to do
with the case, who knows (or guesses) the ids of another agency's case, meeting, referral, emergency
access and a colleague's notification, and times the answers.

Each door scopes in its first query (cases/policy.py, coordination/meetings.py: access_meeting,
coordination/referrals.py: access_referral, cases/views/emergency.py: emergency_review,
coordination/views/notifications.py, access/compliance/views.py: case_history), so the cost cannot
differ; this test fails the day one of them fetches first and decides afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import Role
from cases.choices import InformationCategory
from cases.models import EmergencyAccess, new_reference
from cases.sharing import do_request_emergency_access
from coordination.models import Notification
from coordination.referrals import do_send_referral
from tests.coordination.meetings_setup import World, build_world, disclose, member, put_on_agenda, schedule
from tests.factories import AgencyFactory
from tests.shared_world import shared_world

pytestmark = [pytest.mark.django_db]


@dataclass
class Target:
    case: str
    meeting: str
    referral: str
    emergency: str
    notification: str


_shared_world_once, world = shared_world(build_world)


@pytest.fixture
def existing(world: World) -> Target:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    meeting = schedule(world.samordnare, [world.police])
    put_on_agenda(meeting, world.samordnare, world.case)
    referral = do_send_referral(
        world.case,
        acting_user=world.handlaggare.user,
        membership=world.handlaggare,
        recipient=world.police,
        request_text="Behöver polisens bedömning.",
    )
    emergency = do_request_emergency_access(
        world.case, acting_user=world.jour.user, membership=world.jour, reason="Akut hot mot personen nu."
    )
    notification = Notification.objects.filter(user=world.polis.user).first() or Notification.objects.first()
    assert notification is not None and isinstance(emergency, EmergencyAccess)
    return Target(
        case=world.case.reference,
        meeting=str(meeting.pk),
        referral=str(referral.pk),
        emergency=str(emergency.pk),
        notification=str(notification.pk),
    )


def random_target() -> Target:
    return Target(
        case=new_reference(),
        meeting=str(uuid.uuid4()),
        referral=str(uuid.uuid4()),
        emergency=str(uuid.uuid4()),
        notification=str(uuid.uuid4()),
    )


# (name, who asks, method, url for a target)
DOORS: list[tuple[str, str, str, Callable[[Target], str]]] = [
    ("case detail", "handlaggare", "get", lambda t: reverse("cases:detail", args=[t.case])),
    ("case summary history", "handlaggare", "get", lambda t: reverse("cases:summary_history", args=[t.case])),
    (
        "case coordination",
        "handlaggare",
        "get",
        lambda t: reverse("coordination:case_coordination", args=[t.case]),
    ),
    ("summary pdf", "samordnare", "get", lambda t: reverse("coordination:case_summary_pdf", args=[t.case])),
    ("meeting", "handlaggare", "get", lambda t: reverse("coordination:meeting_detail", args=[t.meeting])),
    ("meeting pdf", "samordnare", "get", lambda t: reverse("coordination:meeting_pdf", args=[t.meeting])),
    ("referral", "handlaggare", "get", lambda t: reverse("coordination:referral_detail", args=[t.referral])),
    (
        "referral accept",
        "handlaggare",
        "post",
        lambda t: reverse("coordination:referral_accept", args=[t.referral]),
    ),
    ("emergency review", "granskare", "get", lambda t: reverse("cases:emergency_review", args=[t.emergency])),
    (
        "notification",
        "handlaggare",
        "post",
        lambda t: reverse("coordination:notification_read", args=[t.notification]),
    ),
    ("audit case history", "granskare", "get", lambda t: reverse("compliance:case_history", args=[t.case])),
]


def answer(client: Client, method: str, url: str, target: Target) -> tuple[int, str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url)
    body = response.content.decode() if response.status_code == 200 else ""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    # The page may say what was asked for (the reference in the URL); nothing else may differ.
    for value in (target.case, target.meeting, target.referral, target.emergency, target.notification):
        body = body.replace(value, "ID")
    return response.status_code, body, len(queries)


@pytest.mark.parametrize(("door", "who", "method", "url"), DOORS, ids=[door[0] for door in DOORS])
def test_an_outsider_gets_the_same_answer_at_the_same_cost_for_an_existing_id_as_for_a_random_one(
    door: str,
    who: str,
    method: str,
    url: Callable[[Target], str],
    world: World,
    existing: Target,
    login_client,
) -> None:
    school = AgencyFactory.create(code="skolan", name="Skolan")
    role = {"handlaggare": Role.HANDLAGGARE, "samordnare": Role.SAMORDNARE, "granskare": Role.GRANSKARE}[who]
    client = login_client(member(school, role, f"skolans-{who}").user)
    made_up = random_target()
    # Warm up once, so a cache filled on the first request (sessions, content types) counts for neither;
    # with another made-up id, so the trail's record of this visit is not on the compared page.
    warm_up = random_target()
    answer(client, method, url(warm_up), warm_up)
    found = answer(client, method, url(existing), existing)
    missed = answer(client, method, url(made_up), made_up)
    assert found[0] == missed[0] and found[0] in (200, 403, 404), door
    assert found[1] == missed[1], f"{door}: the page tells an existing id from a random one"
    assert found[2] == missed[2], (
        f"{door}: {found[2]} queries for an existing id, {missed[2]} for a random one"
    )
