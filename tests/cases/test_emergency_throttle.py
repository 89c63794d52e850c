"""The emergency search is an oracle by design; it is limited per user and watched (issue 12)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, Membership, Role, User
from cases.models import Case
from tests.factories import MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

SEARCH = reverse("cases:emergency_search")
REQUEST = reverse("cases:emergency_request")


def by_reference(client: Client, case: Case) -> str:
    return client.post(
        SEARCH, {"reference": case.reference, "kind": "personnummer", "number": ""}
    ).content.decode()


def test_searches_beyond_the_hourly_limit_are_refused_and_audited(
    case: Case, outsider: User, login_client, settings, monkeypatch
) -> None:
    settings.EMERGENCY_SEARCHES_PER_HOUR = 3
    client = login_client(outsider)
    # The trail is append-only, so these searches are made 61 minutes ago by moving the clock back.
    earlier = timezone.now() - datetime.timedelta(minutes=61)
    monkeypatch.setattr("django.utils.timezone.now", lambda: earlier)
    for _search in range(3):
        assert case.reference in by_reference(client, case)
    refused = by_reference(client, case)
    assert case.reference not in refused
    assert "vilket är gränsen" in refused
    assert AuditEvent.objects.filter(action="case.emergency_search").count() == 3
    burst = AuditEvent.objects.get(action="case.emergency_search_throttled")
    assert burst.actor == outsider and burst.agency_code == "polisen"
    assert burst.details == {"searches_last_hour": 3, "limit": 3}
    # An hour later the user may search again.
    monkeypatch.undo()
    settings.EMERGENCY_SEARCHES_PER_HOUR = 3
    assert case.reference in by_reference(
        login_client(outsider), case
    )  # a new session: the old one idled out


def test_the_limit_is_per_user(case: Case, outsider: User, other_agency, login_client, settings) -> None:
    settings.EMERGENCY_SEARCHES_PER_HOUR = 1
    colleague = MembershipFactory.create(
        user=UserFactory.create(username="kollega"), agency=other_agency, role=Role.HANDLAGGARE
    ).user
    by_reference(login_client(outsider), case)
    assert case.reference in by_reference(login_client(colleague), case)


def test_found_but_not_requested_searches_and_bursts_reach_both_agencies_granskare(
    handlaggare_membership: Membership, outsider: User, other_agency, agency, login_client, settings
) -> None:
    settings.EMERGENCY_SEARCHES_PER_HOUR = 2
    looked_at = open_case(handlaggare_membership)
    requested = open_case(handlaggare_membership, identity_number="197001011233")
    client = login_client(outsider)
    by_reference(client, looked_at)
    by_reference(client, requested)
    client.post(REQUEST, {"reference": requested.reference, "reason": "Akut hot mot personen just nu."})
    by_reference(client, looked_at)  # the third: over the limit
    today = timezone.localdate().isoformat()
    owners = MembershipFactory.create(
        user=UserFactory.create(username="granskare.soc"), agency=agency, role=Role.GRANSKARE
    )
    searchers = MembershipFactory.create(
        user=UserFactory.create(username="granskare.polis"), agency=other_agency, role=Role.GRANSKARE
    )
    for auditor, sees_burst in ((owners.user, False), (searchers.user, True)):
        response = login_client(auditor).get(reverse("compliance:anomalies"), {"fran": today, "till": today})
        result = response.context["result"]
        assert [(g.username, g.reference) for g in result.searches_not_followed.groups] == [
            ("utomstaende", looked_at.reference)
        ]
        assert bool(result.search_bursts.groups) is sees_burst


def test_a_refused_agency_sees_the_refusal_must_override_it_and_the_owners_granskare_is_told(
    handlaggare_membership: Membership, outsider: User, agency, login_client
) -> None:
    from cases.sharing import do_disclose_case

    case = open_case(handlaggare_membership)
    school = MembershipFactory.create(role=Role.HANDLAGGARE).agency
    do_disclose_case(
        case,
        acting_user=handlaggare_membership.user,
        membership=handlaggare_membership,
        recipient=school,
        legal_basis="samtycke",
        categories=["risk"],
        justification="Samtycke till skolan.",
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        never_disclose_to=["polisen"],
    )
    client = login_client(outsider)
    page = by_reference(client, case)
    # A search alone does not tell the searcher that the person refused their agency.
    assert "sagt nej" not in page
    reason = "Akut hot just nu; personens nej till polisen är vägt mot livsfaran och skälet är detta."
    refused = client.post(REQUEST, {"reference": case.reference, "reason": reason})
    body = refused.content.decode()
    assert refused.status_code == 200 and "Bekräfta att du har tagit ställning" in body
    assert "Personen har sagt nej till att uppgifter lämnas till din myndighet." in body
    shown = AuditEvent.objects.get(action="case.emergency_refusal_shown")
    assert shown.object_agency == "soc-vuxen" and shown.actor == outsider
    client.post(REQUEST, {"reference": case.reference, "reason": reason, "overrides_refusal": "on"})
    assert AuditEvent.objects.get(action="case.emergency_access").details["overrides_refusal"] is True
    auditor = MembershipFactory.create(
        user=UserFactory.create(username="granskare.soc"), agency=agency, role=Role.GRANSKARE
    )
    today = timezone.localdate().isoformat()
    result = (
        login_client(auditor.user)
        .get(reverse("compliance:anomalies"), {"fran": today, "till": today})
        .context["result"]
    )
    assert [(g.username, g.reference) for g in result.refusals_overridden.groups] == [
        ("utomstaende", case.reference)
    ]


@pytest.mark.django_db(transaction=True)
def test_parallel_searches_do_not_slip_under_the_limit(
    case: Case, outsider: User, login_client, settings
) -> None:
    """Eight searches at once with a limit of one: the append lock, held from the count to the search's
    event, lets exactly one through. (On SQLite the single writer serialises them anyway.)"""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL suite (make test-postgres)")
    settings.EMERGENCY_SEARCHES_PER_HOUR = 1
    clients = [login_client(outsider) for _thread in range(8)]
    start = threading.Barrier(len(clients))

    def search(client: Client) -> None:
        from django.db import connection as own

        start.wait()
        try:
            by_reference(client, case)
        finally:
            own.close()

    threads = [threading.Thread(target=search, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert AuditEvent.objects.filter(action="case.emergency_search").count() == 1
    assert AuditEvent.objects.filter(action="case.emergency_search_throttled").count() == 7
