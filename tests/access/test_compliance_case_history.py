"""One case's access history: who read it, from which agency, on what grounds, how often, first and
last; every event about it, a page at a time; and the audit entry of looking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import Agency, AuditEvent, User
from tests.access.compliance_events import local, make_event
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

REFERENCE = "VR-HIST-11"


def history(client, reference: str = REFERENCE, **params: str):
    response = client.get(reverse("compliance:case_history", args=[reference]), params)
    assert response.status_code == 200
    return response


@pytest.fixture
def client(granskare: User, login_client):
    return login_client(granskare)


@pytest.fixture
def readers(handlaggare: User, other_agency: Agency) -> dict[str, User]:
    shelter = AgencyFactory.create(code="jouren", name="Kvinnojouren", womens_shelter=True)
    return {
        "owner": handlaggare,
        "police": MembershipFactory.create(
            user=UserFactory.create(username="polis"), agency=other_agency
        ).user,
        "shelter": MembershipFactory.create(user=UserFactory.create(username="jour"), agency=shelter).user,
    }


def test_the_summary_says_who_read_the_case_how_often_first_last_and_on_what_grounds(
    readers: dict[str, User], client
) -> None:
    owner, police, shelter = readers["owner"], readers["police"], readers["shelter"]
    for day in (3, 1, 7):
        make_event(actor=owner, reference=REFERENCE, at=local(2025, 4, day, 9))
    for day in (10, 12):
        make_event(
            actor=police, agency="polisen", reference=REFERENCE, reason="disclosure", at=local(2025, 4, day)
        )
    make_event(
        actor=shelter, agency="jouren", reference=REFERENCE, reason="emergency", at=local(2025, 4, 20, 22)
    )
    # Not reads of this case: a change to it, and a read of another case.
    make_event("case.summary.save", actor=owner, reference=REFERENCE, reason="", at=local(2025, 4, 21))
    make_event(actor=owner, reference="VR-ANNAN-22", at=local(2025, 4, 22))

    summary = history(client).context["summary"]
    assert [
        (read.username, read.agency_code, read.reason, read.reads, read.first, read.last) for read in summary
    ] == [
        ("jour", "jouren", "emergency", 1, local(2025, 4, 20, 22), local(2025, 4, 20, 22)),
        ("polis", "polisen", "disclosure", 2, local(2025, 4, 10), local(2025, 4, 12)),
        ("handlaggare", "soc-vuxen", "owner", 3, local(2025, 4, 1, 9), local(2025, 4, 7, 9)),
    ]
    assert [read.reason_label for read in summary] == ["Nödåtkomst", "Utlämnande", "Ägande myndighet"]


def test_the_summary_table_is_shown_with_links_to_each_reader(readers: dict[str, User], client) -> None:
    make_event(actor=readers["police"], agency="polisen", reference=REFERENCE, reason="disclosure")
    body = history(client).content.decode()
    assert "<caption" in body and 'scope="col"' in body
    assert f'href="{reverse("compliance:user_activity", args=["polis"])}"' in body
    assert "Utlämnande" in body


def test_the_history_lists_every_event_of_the_case_newest_first(handlaggare: User, client) -> None:
    opened = make_event("case.open", actor=handlaggare, reference=REFERENCE, at=local(2025, 1, 1))
    read = make_event(actor=handlaggare, reference=REFERENCE, at=local(2025, 1, 2))
    make_event(actor=handlaggare, reference="VR-ANNAN-22", at=local(2025, 1, 3))
    assert [row.event.pk for row in history(client).context["rows"]] == [read.pk, opened.pk]


def test_the_reference_is_found_in_any_case(handlaggare: User, client) -> None:
    read = make_event(actor=handlaggare, reference=REFERENCE)
    response = history(client, REFERENCE.lower())
    assert response.context["reference"] == REFERENCE
    assert [row.event.pk for row in response.context["rows"]] == [read.pk]


def test_the_history_is_paged_by_keyset(handlaggare: User, client) -> None:
    created = [make_event(actor=handlaggare, reference=REFERENCE).pk for _ in range(60)]
    first = history(client)
    second = history(client, fore=str(first.context["page"].older_than))
    walked = [row.event.pk for row in first.context["rows"]] + [
        row.event.pk for row in second.context["rows"]
    ]
    assert walked == sorted(created, reverse=True)
    assert first.context["links"]["older"].startswith(reverse("compliance:case_history", args=[REFERENCE]))
    assert second.context["links"]["older"] == ""


def test_looking_is_recorded_against_the_case_and_its_owner(
    granskare: User, handlaggare: User, client
) -> None:
    make_event(actor=handlaggare, reference=REFERENCE)
    history(client)
    event = AuditEvent.objects.get(action="audit.case_history")
    assert event.actor == granskare
    assert (event.object_type, event.object_reference, event.object_agency) == (
        "case",
        REFERENCE,
        "soc-vuxen",
    )
    assert event.details == {"rows": 1}


@pytest.mark.parametrize("reference", ["19811218-9876", "198112189876"])
def test_a_number_is_no_reference(reference: str, client) -> None:
    response = client.get(reverse("compliance:case_history", args=[reference]))
    assert response.status_code == 404
    body = response.content.decode()
    # The page's own content (the footer's language form returns the visitor to the path they asked for).
    assert reference not in body[body.index("<main") : body.index("</main>")]
    assert not AuditEvent.objects.filter(action="audit.case_history").exists()


def test_a_history_that_cannot_be_recorded_shows_nothing(handlaggare: User, client, monkeypatch) -> None:
    from access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditWriteError("no audit today")

    make_event(actor=handlaggare, reference=REFERENCE, request_id="seen-request-1")
    monkeypatch.setattr("access.compliance.views.record_event", broken)
    client.raise_request_exception = False
    response = client.get(reverse("compliance:case_history", args=[REFERENCE]))
    assert response.status_code == 500
    assert "seen-request-1" not in response.content.decode()
