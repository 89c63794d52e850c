"""Exports of the search selection: CSV safe for spreadsheets, a real PDF, both audited in the
transaction that reads them, refused when too large, and never returned unaudited."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from access.compliance.exports import spreadsheet_safe
from access.models import AuditEvent, User
from tests import pdf_reading
from tests.access.compliance_events import local, make_event

pytestmark = pytest.mark.django_db

EXPORT = reverse("compliance:export")


@pytest.fixture
def client(granskare: User, login_client):
    return login_client(granskare)


def export(client, file_format: str = "csv", **filters: str):
    return client.post(EXPORT, {**filters, "format": file_format, "grund": "egenkontroll"})


def csv_rows(response) -> list[list[str]]:
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf"), "no byte order mark: Excel would misread å, ä and ö"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_holds_the_selection_newest_first(handlaggare: User, client) -> None:
    make_event(actor=handlaggare, reference="VR-CSV1-11", at=local(2025, 2, 3, 8, 15))
    make_event(actor=handlaggare, reference="VR-CSV2-22", reason="disclosure", at=local(2025, 2, 4, 9, 30))
    make_event(actor=handlaggare, reference="VR-NOT-33", at=local(2025, 2, 5))
    response = export(client, handelse="case.read", till="2025-02-04")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = csv_rows(response)
    assert header[:6] == ["Tid", "Användare", "Myndighet", "Roll", "Händelsekod", "Händelse"]
    assert [(row[0], row[1], row[4], row[5], row[7], row[9]) for row in rows] == [
        ("2025-02-04 09:30:00", "handlaggare", "case.read", "Ärende läst", "VR-CSV2-22", "disclosure"),
        ("2025-02-03 08:15:00", "handlaggare", "case.read", "Ärende läst", "VR-CSV1-11", "owner"),
    ]


@pytest.mark.parametrize("value", ["=1+1", "+x", "-x", "@x", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_a_cell_a_spreadsheet_would_run_is_made_text(value: str, handlaggare: User, client) -> None:
    make_event(
        actor=handlaggare,
        username=value,
        reason=value,
        request_id=value,
        client_address=value,
        reference="VR-INJ-11",
    )
    header, *rows = csv_rows(export(client, referens="VR-INJ-11"))
    [row] = rows
    columns = dict(zip(header, row, strict=True))
    for column in ("Användare", "Grund", "Begäran", "Klientadress"):
        assert columns[column] == "'" + value, column


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("x=1", "x=1"),
        ("", ""),
    ],
)
def test_spreadsheet_safe(value: str, expected: str) -> None:
    assert spreadsheet_safe(value) == expected


def test_the_file_is_an_attachment_named_without_personal_data(handlaggare: User, client) -> None:
    make_event(actor=handlaggare, reference="VR-NAME-11")
    for file_format in ("csv", "pdf"):
        response = export(client, file_format, anvandare="handlaggare", referens="VR-NAME-11")
        disposition = response["Content-Disposition"]
        assert disposition.startswith('attachment; filename="granskningslogg-')
        assert disposition.endswith(f'.{file_format}"')
        assert "handlaggare" not in disposition and "VR-NAME-11" not in disposition


def test_the_pdf_is_a_real_pdf_with_the_rows_the_filters_and_the_exporter(
    granskare: User, handlaggare: User, client
) -> None:
    make_event(actor=handlaggare, reference="VR-PDF1-11", details={"protected_identity": True})
    make_event(actor=handlaggare, reference="VR-PDF2-22", reason="disclosure")
    make_event(actor=handlaggare, reference="VR-PDF3-33", at=local(2020, 1, 1))
    response = export(client, "pdf", handelse="case.read", fran="2024-01-01")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_reading.text(response.content)
    for expected in (
        "Granskningslogg – export",
        "Sekretess enligt 26 kap. 1 § OSL",
        "av granskare",
        "Händelse: Ärende läst (case.read)",
        "Från och med: 2024-01-01",
        "VR-PDF1-11",
        "VR-PDF2-22",
        "Utlämnande",
        "Ägande myndighet",
        "Sida 1 av 1",
    ):
        assert expected in text, f"{expected!r} not in the PDF's text:\n{text}"
    assert "VR-PDF3-33" not in text
    # Only embedded fonts: a reader's substitute for a standard font may lack å, ä and ö.
    assert b"Helvetica" not in response.content
    fonts = pdf_reading.fonts(response.content)
    assert fonts and all(font.embedded for font in fonts), fonts


def test_a_long_pdf_numbers_its_pages(handlaggare: User, client) -> None:
    for number in range(120):
        make_event(actor=handlaggare, reference=f"VR-LONG-{number:03d}")
    response = export(client, "pdf", handelse="case.read")
    pages_text = pdf_reading.page_texts(response.content)
    text = "\f".join(pages_text)
    pages = len(pages_text)
    assert pages >= 3
    assert f"Sida 1 av {pages}" in text and f"Sida {pages} av {pages}" in text
    assert "VR-LONG-000" in text and "VR-LONG-119" in text


@pytest.mark.parametrize("file_format", ["csv", "pdf"])
def test_every_export_is_recorded_with_format_rows_filters_and_reason(
    file_format: str, granskare: User, handlaggare: User, client
) -> None:
    make_event(actor=handlaggare, reference="VR-AUD1-11")
    make_event(actor=handlaggare, reference="VR-AUD2-22")
    export(client, file_format, handelse="case.read", anvandare="handlaggare")
    event = AuditEvent.objects.get(action="audit.export")
    assert event.actor == granskare
    assert (event.agency_code, event.role, event.reason) == ("soc-vuxen", "granskare", "egenkontroll")
    assert event.details == {
        "format": file_format,
        "rows": 2,
        "filters": {"action": "case.read", "username": "handlaggare"},
    }


@pytest.mark.parametrize("file_format", ["csv", "pdf"])
def test_an_export_that_cannot_be_recorded_is_not_returned(
    file_format: str, handlaggare: User, client, monkeypatch
) -> None:
    from access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditWriteError("no audit today")

    make_event(actor=handlaggare, reference="VR-SECRET-11")
    monkeypatch.setattr("access.compliance.views.record_event", broken)
    client.raise_request_exception = False
    response = export(client, file_format)
    assert response.status_code == 500
    assert "Content-Disposition" not in response
    assert b"VR-SECRET-11" not in response.content
    assert not response.content.startswith(b"%PDF")


def test_a_selection_over_the_limit_is_refused_not_cut_short(handlaggare: User, client, monkeypatch) -> None:
    monkeypatch.setattr("access.compliance.views.EXPORT_LIMIT", 3)
    for number in range(4):
        make_event(actor=handlaggare, reference=f"VR-BIG-{number:03d}")
    response = export(client, handelse="case.read")
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    assert "Urvalet har fler än 3 händelser och exporteras inte." in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.export").exists()
    # A narrower selection goes.
    response = export(client, handelse="case.read", referens="VR-BIG-001")
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_export_needs_a_reason_and_keeps_the_filters(handlaggare: User, client) -> None:
    make_event(actor=handlaggare, reference="VR-KEEP-11")
    response = client.post(EXPORT, {"format": "csv", "referens": "VR-KEEP-11", "handelse": "case.read"})
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    body = response.content.decode()
    assert "Välj skälet till exporten." in body
    # Nothing lost: the export form still carries the filters, and the search shows them.
    assert '<input type="hidden" name="referens" value="VR-KEEP-11">' in body
    assert '<input type="hidden" name="handelse" value="case.read">' in body
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_an_export_with_bad_filters_is_refused(client) -> None:
    response = export(client, fran="igår")
    assert "Content-Disposition" not in response
    assert "Ange datumet som ÅÅÅÅ-MM-DD." in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_an_unknown_format_is_refused(client) -> None:
    response = client.post(EXPORT, {"format": "xlsx", "grund": "egenkontroll"})
    assert "Content-Disposition" not in response
    assert "Välj CSV eller PDF." in response.content.decode()


def test_a_refused_export_pages_on_through_the_search(handlaggare: User, client) -> None:
    for number in range(55):
        make_event(actor=handlaggare, reference=f"VR-MORE-{number:03d}")
    response = client.post(EXPORT, {"format": "csv", "handelse": "case.read"})
    older = response.context["links"]["older"]
    assert older.startswith(reverse("compliance:search") + "?handelse=case.read&fore=")
