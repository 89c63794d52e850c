"""The case list and the search: scoped to what the user may see, free of names, and never a
personnummer in a URL or in the audit trail."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import Agency, AuditEvent, Membership, Role, User
from cases.choices import ProtectedIdentity
from cases.models import Case
from tests.factories import MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

LIST = reverse("cases:list")
SEARCH = reverse("cases:search")
NAME = "Namnmarkör Qxz-Åberg"
NUMBER = "198112189876"
# Every way the number might leak: as typed, normalised, ten digits, date part, serial part.
NUMBER_SPELLINGS = ("19811218-9876", NUMBER, "811218-9876", "8112189876", "19811218", "1218-9876")
# Valid (Luhn) but used by no case.
UNUSED_NUMBER = "19121212-1212"


def _urls_in(body: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', body)


def _without_csrf(body: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def _search(client, number: str, kind: str = "personnummer"):
    return client.post(SEARCH, {"kind": kind, "number": number})


# --- The list ---------------------------------------------------------------------------------------


def test_the_list_shows_the_users_cases_and_no_names_or_numbers(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    case = open_case(handlaggare_membership, name=NAME)
    body = login_client(handlaggare).get(LIST).content.decode()
    assert case.reference in body
    assert "Socialtjänsten vuxen" in body
    assert NAME not in body
    assert not [spelling for spelling in NUMBER_SPELLINGS if spelling in body]


def test_the_list_leaves_out_cases_of_other_agencies(
    handlaggare: User, outsider: User, other_agency: Agency, login_client
) -> None:
    elsewhere = open_case(outsider.memberships.get())
    body = login_client(handlaggare).get(LIST).content.decode()
    assert elsewhere.reference not in body
    assert "Det finns inga ärenden att visa." in body


def test_the_list_marks_protected_identity(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    protected = open_case(handlaggare_membership, protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION)
    body = login_client(handlaggare).get(LIST).content.decode()
    row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{protected.reference}</a>.*?</tr>", body, re.S)
    assert row is not None
    assert "Skyddade personuppgifter" in row.group(0)


def test_the_list_is_paginated_by_25(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    references = {open_case(handlaggare_membership).reference for _ in range(27)}
    client = login_client(handlaggare)
    first = client.get(LIST).content.decode()
    second = client.get(LIST, {"sida": 2}).content.decode()
    shown_first = {reference for reference in references if reference in first}
    shown_second = {reference for reference in references if reference in second}
    assert len(shown_first) == 25
    assert shown_first | shown_second == references
    assert "Sida 1 av 2" in first


def test_the_list_needs_as_many_queries_for_thirty_cases_as_for_one(
    handlaggare_membership: Membership, handlaggare: User, login_client, django_assert_max_num_queries
) -> None:
    client = login_client(handlaggare)
    open_case(handlaggare_membership, protected_identity=ProtectedIdentity.SECRECY_MARKING)
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for _ in range(29):
        open_case(handlaggare_membership)
    with CaptureQueriesContext(connection) as thirty:
        client.get(LIST)
    assert len(thirty) == len(one), [query["sql"] for query in thirty.captured_queries]
    # Session, user, OTP device, casework check, navigation, the page (count, ids, rows) and the session
    # save (with its savepoint): the same eleven however many cases there are.
    with django_assert_max_num_queries(11):
        client.get(LIST, {"sida": 2})


# --- Search by reference ----------------------------------------------------------------------------


OPEN_REFERENCE = reverse("cases:open_reference")


def test_a_reference_search_opens_the_case(case: Case, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).post(OPEN_REFERENCE, {"referens": f" {case.reference.lower()} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.reference])


def test_the_reference_box_is_a_post_form(handlaggare: User, login_client) -> None:
    body = login_client(handlaggare).get(LIST).content.decode()
    forms = re.findall(r'<form method="(\w+)" action="([^"]+)"', body)
    assert ("post", OPEN_REFERENCE) in forms
    assert not [action for method, action in forms if method == "get"], (
        "a GET form puts what is typed in the URL"
    )


def test_a_reference_in_the_query_string_opens_nothing(case: Case, handlaggare: User, login_client) -> None:
    # The old GET form's address: no longer a way in, so no link or bookmark keeps using it.
    response = login_client(handlaggare).get(LIST, {"referens": case.reference})
    assert response.status_code == 200
    assert "Inget ärende hittades." not in response.content.decode()


@pytest.mark.parametrize("number", ["19811218-9876", "198112189876", "811218-9876", " 8112189876 "])
def test_a_personnummer_in_the_reference_box_is_refused_and_not_shown_back(
    case: Case, handlaggare: User, login_client, number: str
) -> None:
    response = login_client(handlaggare).post(OPEN_REFERENCE, {"referens": number})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Det ser ut som ett personnummer. Sök på nummer i rutan för personnummer i stället" in body
    assert number.strip() not in body
    assert "9876" not in body
    assert not AuditEvent.objects.filter(action="case.read").exists()


@pytest.mark.parametrize(
    ("typed", "message"), [("", "Skriv en ärendereferens."), ("VR <7K3F>", "bindestreck")]
)
def test_a_reference_that_is_not_one_gets_a_clear_message(
    handlaggare: User, login_client, typed: str, message: str
) -> None:
    response = login_client(handlaggare).post(OPEN_REFERENCE, {"referens": typed})
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_reference_of_another_agency_is_not_found_exactly_like_a_missing_one(
    handlaggare: User, outsider: User, login_client
) -> None:
    elsewhere = open_case(outsider.memberships.get())
    client = login_client(handlaggare)
    hidden = client.post(OPEN_REFERENCE, {"referens": elsewhere.reference})
    missing = client.post(OPEN_REFERENCE, {"referens": "VR-ZZZZ-Z9"})
    assert hidden.status_code == missing.status_code == 200
    hidden_body = _without_csrf(hidden.content.decode()).replace(elsewhere.reference, "REF")
    missing_body = _without_csrf(missing.content.decode()).replace("VR-ZZZZ-Z9", "REF")
    assert "Inget ärende hittades." in hidden_body
    assert hidden_body == missing_body


# --- Search by personnummer -------------------------------------------------------------------------


def test_the_number_search_is_a_post_form(handlaggare: User, login_client) -> None:
    body = login_client(handlaggare).get(LIST).content.decode()
    assert re.search(rf'<form method="post" action="{SEARCH}"', body)
    assert login_client(handlaggare).get(SEARCH, {"number": NUMBER}).status_code == 405


@pytest.mark.parametrize("spelling", ["19811218-9876", "811218-9876", "198112189876", " 19811218 9876 "])
def test_the_number_search_finds_the_case_however_the_number_is_written(
    spelling: str, case: Case, handlaggare: User, login_client
) -> None:
    response = _search(login_client(handlaggare), spelling)
    assert response.status_code == 200
    body = response.content.decode()
    assert case.reference in body
    assert "Inget ärende hittades" not in body


def test_the_number_search_finds_only_visible_cases_and_says_so_like_for_no_case_at_all(
    handlaggare: User, outsider: User, login_client
) -> None:
    elsewhere = open_case(outsider.memberships.get(), identity_number=NUMBER)
    client = login_client(handlaggare)
    same_number_elsewhere = _search(client, "19811218-9876")
    no_such_number = _search(client, UNUSED_NUMBER)
    assert elsewhere.reference not in same_number_elsewhere.content.decode()
    assert "Inget ärende hittades." in same_number_elsewhere.content.decode()
    assert _without_csrf(same_number_elsewhere.content.decode()) == _without_csrf(
        no_such_number.content.decode()
    )


def test_the_number_search_is_audited_with_the_count_and_never_the_number(
    case: Case, handlaggare: User, login_client
) -> None:
    response = _search(login_client(handlaggare), "19811218-9876")
    event = AuditEvent.objects.get(action="case.search")
    assert event.actor == handlaggare
    assert event.details["hits"] == 1
    assert event.details["references"] == [case.reference]
    every_event = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
    leaked = [spelling for spelling in NUMBER_SPELLINGS if spelling in every_event]
    assert leaked == [], f"the audit trail holds the number as {leaked}"
    leaked_urls = [
        url for url in _urls_in(response.content.decode()) if any(s in url for s in NUMBER_SPELLINGS)
    ]
    assert leaked_urls == [], f"a URL on the result page holds the number: {leaked_urls}"
    assert "19811218-9876" not in response.content.decode(), "the number is echoed back into the page"


def test_an_invalid_number_gets_the_swedish_check_digit_message_and_no_search(
    case: Case, handlaggare: User, login_client
) -> None:
    body = _search(login_client(handlaggare), "19811218-9875").content.decode()
    assert "Kontrollsiffran stämmer inte. Kontrollera numret." in body
    assert 'aria-invalid="true"' in body
    assert not AuditEvent.objects.filter(action="case.search").exists()


def test_a_samordningsnummer_is_searched_as_one(
    handlaggare_membership: Membership, handlaggare, login_client
) -> None:
    case = open_case(
        handlaggare_membership, identity_kind="samordningsnummer", identity_number="198112789873"
    )
    client = login_client(handlaggare)
    as_personnummer = _search(client, "19811278-9873").content.decode()
    assert "I ett samordningsnummer" not in as_personnummer
    assert "Dagen kan inte vara över 31" in as_personnummer
    found = _search(client, "19811278-9873", kind="samordningsnummer").content.decode()
    assert case.reference in found


def test_a_caseworker_in_two_agencies_finds_cases_in_both(
    agency: Agency, other_agency: Agency, login_client
) -> None:
    user = UserFactory(username="tva-myndigheter")
    first = open_case(MembershipFactory(user=user, agency=agency, role=Role.HANDLAGGARE))
    second = open_case(MembershipFactory(user=user, agency=other_agency, role=Role.SAMORDNARE))
    body = _search(login_client(user), "19811218-9876").content.decode()
    assert first.reference in body
    assert second.reference in body
    event = AuditEvent.objects.get(action="case.search")
    assert event.details["hits"] == 2
    assert event.details["references"] == sorted([first.reference, second.reference])
