"""The search of the audit trail: every filter, its Swedish error messages, keyset pages without gaps
or overlaps, what a row shows, and the audit entry of each search."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import Agency, AuditEvent, User
from tests.access.compliance_events import local, make_event
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("compliance:search")


def shown(response) -> list[int]:
    return [row.event.pk for row in response.context["rows"]]


def search(client, **filters: str):
    response = client.get(SEARCH, filters)
    assert response.status_code == 200
    return response


@pytest.fixture
def client(granskare: User, login_client):
    return login_client(granskare)


# --- Filters ---------------------------------------------------------------------------------------------


def test_it_filters_by_username(handlaggare: User, samordnare: User, client) -> None:
    mine = make_event(actor=handlaggare)
    make_event(actor=samordnare)
    assert shown(search(client, anvandare="handlaggare", handelse="case.read")) == [mine.pk]


def test_an_unknown_username_finds_nothing(handlaggare: User, client) -> None:
    make_event(actor=handlaggare)
    response = search(client, anvandare="finns-inte")
    assert shown(response) == []
    assert "Inga händelser matchar sökningen." in response.content.decode()


def test_it_filters_by_the_acting_agency(handlaggare: User, other_agency: Agency, client) -> None:
    police = MembershipFactory.create(user=UserFactory.create(username="polis"), agency=other_agency).user
    by_police = make_event(actor=police, agency="polisen", reason="disclosure")
    make_event(actor=handlaggare)
    assert shown(search(client, myndighet="polisen", handelse="case.read")) == [by_police.pk]


def test_it_filters_by_reference_in_any_case(handlaggare: User, client) -> None:
    wanted = make_event(actor=handlaggare, reference="VR-7K3F-Q9")
    make_event(actor=handlaggare, reference="VR-7K3F-Q8")
    response = search(client, referens=" vr-7k3f-q9 ")
    assert shown(response) == [wanted.pk]
    # The form shows the reference as the trail stores it.
    assert 'value="VR-7K3F-Q9"' in response.content.decode()


def test_it_filters_by_an_exact_action(handlaggare: User, client) -> None:
    read = make_event("case.read", actor=handlaggare)
    make_event("case.read.extra", actor=handlaggare)
    make_event("case.open", actor=handlaggare)
    assert shown(search(client, handelse="case.read")) == [read.pk]


def test_it_filters_by_an_action_family(handlaggare: User, client) -> None:
    read = make_event("case.read", actor=handlaggare)
    opened = make_event("case.open", actor=handlaggare)
    make_event("caseload.count", actor=handlaggare)
    make_event("auth.login", actor=handlaggare, reference="", owner="")
    assert shown(search(client, handelse="case.")) == [opened.pk, read.pk]


def test_the_action_list_offers_the_actions_present_and_their_families(handlaggare: User, client) -> None:
    make_event("case.emergency_access.review", actor=handlaggare)
    form = search(client).context["form"]
    offered = {value for _group, options in form.fields["handelse"].choices[1:] for value, _label in options}
    assert {"case.emergency_access.review", "case.", "case.emergency_access."} <= offered


def test_it_filters_by_days_in_swedish_local_time(handlaggare: User, client) -> None:
    # 23:30 and 00:30 local time: in UTC both fall on 10 March.
    late = make_event(actor=handlaggare, at=local(2025, 3, 10, 23, 30))
    after_midnight = make_event(actor=handlaggare, at=local(2025, 3, 11, 0, 30))
    make_event(actor=handlaggare, at=local(2025, 3, 12, 12, 0))
    assert shown(search(client, handelse="case.read", till="2025-03-10")) == [late.pk]
    assert shown(search(client, handelse="case.read", fran="2025-03-11", till="2025-03-11")) == [
        after_midnight.pk
    ]
    assert shown(search(client, handelse="case.read", fran="2025-03-10", till="2025-03-11")) == [
        after_midnight.pk,
        late.pk,
    ]


def test_filters_combine(handlaggare: User, samordnare: User, client) -> None:
    wanted = make_event(actor=handlaggare, reference="VR-AAAA-11", at=local(2025, 5, 5))
    make_event(actor=samordnare, reference="VR-AAAA-11", at=local(2025, 5, 5))
    make_event(actor=handlaggare, reference="VR-BBBB-22", at=local(2025, 5, 5))
    make_event(actor=handlaggare, reference="VR-AAAA-11", at=local(2025, 6, 5))
    response = search(
        client,
        anvandare="handlaggare",
        referens="VR-AAAA-11",
        handelse="case.read",
        fran="2025-05-01",
        till="2025-05-31",
    )
    assert shown(response) == [wanted.pk]


# --- Bad input -------------------------------------------------------------------------------------------


def assert_refused(response, message: str) -> None:
    body = response.content.decode()
    assert message in body
    assert response.context["page"] is None
    assert not AuditEvent.objects.filter(action="audit.search").exists()


def test_a_malformed_date_gets_a_swedish_message_and_keeps_the_rest(handlaggare: User, client) -> None:
    make_event(actor=handlaggare)
    response = search(client, anvandare="handlaggare", referens="VR-AAAA-11", fran="10/03/2025")
    assert_refused(response, "Ange datumet som ÅÅÅÅ-MM-DD.")
    body = response.content.decode()
    assert 'value="handlaggare"' in body
    assert 'value="VR-AAAA-11"' in body


def test_an_end_before_the_start_is_refused(client) -> None:
    assert_refused(
        search(client, fran="2025-03-11", till="2025-03-10"), "Till-datumet kan inte ligga före från-datumet."
    )


@pytest.mark.parametrize("field", ["referens", "anvandare"])
@pytest.mark.parametrize("number", ["19811218-9876", "198112189876", "811218-9876"])
def test_a_personnummer_is_refused_and_not_shown_back(field: str, number: str, client) -> None:
    response = search(client, **{field: number})
    assert_refused(response, "Det ser ut som ett personnummer.")
    assert number not in response.content.decode()


def test_the_browser_is_told_to_refuse_a_number_as_a_reference(client) -> None:
    body = search(client).content.decode()
    assert 'pattern="[A-Za-z0-9_.\\-]*[A-Za-z][A-Za-z0-9_.\\-]*"' in body


def test_a_reference_with_other_characters_is_refused(client) -> None:
    assert_refused(
        search(client, referens="VR 7K3F <Q9>"), "Ange en referens med bokstäver, siffror och bindestreck"
    )


def test_an_unknown_agency_is_refused(client) -> None:
    assert_refused(search(client, myndighet="finns-inte"), "Välj en myndighet i listan.")


def test_an_unknown_action_is_refused(client) -> None:
    assert_refused(search(client, handelse="case.nope"), "Välj en händelse i listan.")


@pytest.mark.parametrize("cursor", ["fore=abc", "fore=-1", "efter=1e9", "fore=" + "9" * 30])
def test_a_tampered_page_cursor_is_a_bad_request(cursor: str, client) -> None:
    assert client.get(f"{SEARCH}?{cursor}").status_code == 400


# --- Keyset pages ----------------------------------------------------------------------------------------


def test_pages_follow_each_other_without_gaps_or_overlaps(handlaggare: User, client) -> None:
    created = [make_event(actor=handlaggare, reference=f"VR-PAGE-{number:03d}").pk for number in range(120)]
    pages = []
    response = search(client, handelse="case.read")
    while True:
        pages.append(shown(response))
        older = response.context["links"]["older"]
        if not older:
            break
        assert "handelse=case.read" in older and "fore=" in older
        response = client.get(older)
    assert [len(page) for page in pages] == [50, 50, 20]
    walked = [pk for page in pages for pk in page]
    assert walked == sorted(created, reverse=True)


def test_the_newer_link_leads_back_to_the_same_page(handlaggare: User, client) -> None:
    for number in range(120):
        make_event(actor=handlaggare, reference=f"VR-PAGE-{number:03d}")
    first = search(client, handelse="case.read")
    second = client.get(first.context["links"]["older"])
    third = client.get(second.context["links"]["older"])
    assert shown(client.get(third.context["links"]["newer"])) == shown(second)
    assert shown(client.get(second.context["links"]["newer"])) == shown(first)
    assert first.context["links"]["newer"] == ""
    assert third.context["links"]["older"] == ""


def test_a_page_costs_the_same_queries_however_many_events_and_never_counts_or_skips(
    handlaggare: User, client
) -> None:
    make_event(actor=handlaggare)
    search(client)  # warms the session and the caches

    def audit_queries() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as captured:
            search(client, handelse="case.read")
        return len(captured), [query["sql"] for query in captured if "access_auditevent" in query["sql"]]

    few, _sql = audit_queries()
    for number in range(150):
        make_event(actor=handlaggare, reference=f"VR-MANY-{number:03d}")
    many, sql = audit_queries()
    assert few == many
    assert not [query for query in sql if "COUNT(" in query.upper() or "OFFSET" in query.upper()]
    assert any("LIMIT 51" in query for query in sql)


# --- What a row shows ------------------------------------------------------------------------------------


def test_a_row_shows_who_what_where_and_why(handlaggare: User, client, other_agency: Agency) -> None:
    make_event(
        actor=handlaggare,
        reference="VR-ROW1-11",
        owner="polisen",
        reason="disclosure",
        request_id="req-1234567890",
        client_address="198.51.100.7",
        details={"categories": ["risk"], "protected_identity": False},
    )
    body = search(client).content.decode()
    for expected in (
        "handlaggare",
        "soc-vuxen",
        "Handläggare",
        "Ärende läst",
        "case.read",
        f'href="{reverse("compliance:case_history", args=["VR-ROW1-11"])}"',
        f'href="{reverse("compliance:user_activity", args=["handlaggare"])}"',
        "ägs av Polisen",
        "Utlämnande",
        "req-1234567890",
        "198.51.100.7",
        "&quot;categories&quot;: [&quot;risk&quot;]",
    ):
        assert expected in body, expected


def test_an_unknown_action_is_shown_by_its_code(handlaggare: User, client) -> None:
    make_event("something.new", actor=handlaggare)
    assert "something.new" in search(client, handelse="something.new").content.decode()


def test_details_are_escaped(handlaggare: User, client) -> None:
    make_event(actor=handlaggare, details={"note": "<script>alert(1)</script>"})
    body = search(client).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- Audited ---------------------------------------------------------------------------------------------


def test_each_search_is_recorded_with_its_filters(granskare: User, handlaggare: User, client) -> None:
    make_event(actor=handlaggare, reference="VR-AAAA-11")
    search(client, referens="vr-aaaa-11", anvandare="handlaggare")
    event = AuditEvent.objects.get(action="audit.search")
    assert event.actor == granskare
    assert event.agency_code == "soc-vuxen"
    assert event.role == "granskare"
    assert event.details == {"filters": {"reference": "VR-AAAA-11", "username": "handlaggare"}, "rows": 1}


def test_a_username_that_matches_nobody_is_not_kept_in_the_trail(client) -> None:
    search(client, anvandare="Hemligt-losenord-1")
    event = AuditEvent.objects.get(action="audit.search")
    assert "Hemligt-losenord-1" not in str(event.details)
    assert event.details["filters"] == {"unknown_username": True}


def test_a_search_that_cannot_be_recorded_shows_nothing(handlaggare: User, client, monkeypatch) -> None:
    from access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditWriteError("no audit today")

    make_event(actor=handlaggare, reference="VR-SEEN-11")
    monkeypatch.setattr("access.compliance.views.record_event", broken)
    client.raise_request_exception = False
    response = client.get(SEARCH)
    assert response.status_code == 500
    assert "VR-SEEN-11" not in response.content.decode()


def test_unfiltered_pages_merge_both_halves_of_the_scope_without_gaps_or_overlaps(
    granskare: User, handlaggare: User, other_agency: Agency, client
) -> None:
    police = MembershipFactory.create(user=UserFactory.create(username="polis"), agency=other_agency).user
    for number in range(45):
        # Interleaved: our staff on our cases (both halves), the police on our cases (the owner half),
        # our staff on the police's cases (the acting half).
        make_event(actor=handlaggare, reference=f"VR-OWN-{number:03d}")
        make_event(actor=police, agency="polisen", reference=f"VR-DISC-{number:03d}", reason="disclosure")
        make_event(actor=handlaggare, owner="polisen", reference=f"VR-POL-{number:03d}", reason="disclosure")
        make_event(actor=police, agency="polisen", owner="polisen", reference=f"VR-HIDDEN-{number:03d}")
    expected = sorted(
        AuditEvent.objects.visible_to_auditor(granskare).values_list("pk", flat=True), reverse=True
    )
    pages = []
    response = search(client)
    while True:
        pages.append(shown(response))
        if not response.context["links"]["older"]:
            break
        response = client.get(response.context["links"]["older"])
    walked = [pk for page in pages for pk in page]
    assert walked == expected
    assert all(len(page) == 50 for page in pages[:-1])


def test_a_page_per_half_and_one_query_give_the_same_pages(
    granskare: User, handlaggare: User, other_agency: Agency
) -> None:
    from access.compliance.queries import auditor_memberships, keyset_page, scope_parts

    for number in range(30):
        make_event(actor=handlaggare, reference=f"VR-OWN-{number:03d}")
        make_event(agency="polisen", username="polis", reference=f"VR-DISC-{number:03d}", reason="disclosure")
        make_event(actor=handlaggare, owner="polisen", reference=f"VR-POL-{number:03d}", reason="disclosure")
    events = AuditEvent.objects.visible_to_auditor(granskare)
    parts = scope_parts(auditor_memberships(granskare))
    middle = sorted(events.values_list("pk", flat=True))[45]
    for cursor in ({}, {"before": middle}, {"after": middle}):
        merged = keyset_page(events, parts=parts, size=20, **cursor)
        single = keyset_page(events, size=20, **cursor)
        assert [event.pk for event in merged.events] == [event.pk for event in single.events], cursor
        assert (merged.older_than, merged.newer_than, merged.has_newer) == (
            single.older_than,
            single.newer_than,
            single.has_newer,
        )
