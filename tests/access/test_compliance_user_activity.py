"""One user's activity: their events within the scope, a page at a time, with counts per action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import Agency, AuditEvent, User
from tests.access.compliance_events import make_event
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def activity(client, username: str, **params: str):
    response = client.get(reverse("compliance:user_activity", args=[username]), params)
    assert response.status_code == 200
    return response


@pytest.fixture
def client(granskare: User, login_client):
    return login_client(granskare)


def test_it_counts_the_users_events_per_action(handlaggare: User, samordnare: User, client) -> None:
    for _ in range(3):
        make_event("case.read", actor=handlaggare)
    make_event("case.open", actor=handlaggare)
    make_event("auth.login", actor=handlaggare, reference="", owner="")
    make_event("case.read", actor=samordnare)
    counts = activity(client, "handlaggare").context["counts"]
    case_counts = [
        (count.action, count.label, count.count) for count in counts if count.action.startswith("case.")
    ]
    assert case_counts == [("case.read", "Ärende läst", 3), ("case.open", "Ärende öppnat", 1)]


def test_it_lists_only_the_users_events_within_the_scope(
    handlaggare: User, other_agency: Agency, client
) -> None:
    police = MembershipFactory.create(user=UserFactory.create(username="polis"), agency=other_agency).user
    about_ours = make_event(actor=police, agency="polisen", reference="VR-OURS-11", reason="disclosure")
    make_event(actor=police, agency="polisen", owner="polisen", reference="VR-THEIRS-22")
    response = activity(client, "polis")
    assert [row.event.pk for row in response.context["rows"]] == [about_ours.pk]
    assert [(count.action, count.count) for count in response.context["counts"]] == [("case.read", 1)]
    assert "VR-THEIRS-22" not in response.content.decode()


def test_the_activity_is_paged_by_keyset(handlaggare: User, client) -> None:
    created = [make_event(actor=handlaggare, reference=f"VR-USER-{number:03d}").pk for number in range(55)]
    first = activity(client, "handlaggare")
    second = client.get(first.context["links"]["older"])
    walked = [row.event.pk for row in first.context["rows"]] + [
        row.event.pk for row in second.context["rows"]
    ]
    reads = [pk for pk in walked if pk in created]
    assert reads == sorted(created, reverse=True)
    assert len(walked) == len(set(walked))


def test_looking_is_recorded_by_the_users_opaque_id(granskare: User, handlaggare: User, client) -> None:
    make_event(actor=handlaggare)
    activity(client, "handlaggare")
    event = AuditEvent.objects.get(action="audit.user_activity")
    assert event.actor == granskare
    assert (event.object_type, event.object_reference) == ("user", str(handlaggare.public_id))
    assert event.details["found"] is True


def test_an_unknown_user_is_empty_and_not_named_in_the_trail(client) -> None:
    response = activity(client, "Mitt-losenord-42")
    assert "Inga händelser." in response.content.decode()
    event = AuditEvent.objects.get(action="audit.user_activity")
    assert event.object_reference == ""
    assert "Mitt-losenord-42" not in str(event.details)
    assert event.details == {"rows": 0, "found": False}
