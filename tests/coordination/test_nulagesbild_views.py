"""The chef's nulägesbild pages: who gets in, the generate–review–release–download flow, and that nothing
of a case ever shows up in a page or a file."""

from __future__ import annotations

import datetime
import re
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, Membership, Role, User
from cases.models import Case
from cases.records import Children, Classification
from coordination.nulagesbild import release as release_module
from coordination.nulagesbild.models import NulagesbildDraft, NulagesbildRelease
from tests import pdf_reading
from tests.cases.marker_data import MARKER as FREE_TEXT_MARKER
from tests.cases.marker_data import create_marked_cases
from tests.factories import MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def the_period_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """Release day is after this year's end (only a period that is over can be released); a test of
    the refusal sets the day back itself."""
    year = timezone.localdate().year
    monkeypatch.setattr(release_module, "_today", lambda: datetime.date(year + 1, 1, 2))


INDEX = reverse("coordination:nulagesbild")
GENERATE = reverse("coordination:nulagesbild_generate")


def this_year() -> str:
    return str(timezone.localdate().year)


def generate(client: Client, half: str = "helar") -> NulagesbildDraft:
    response = client.post(GENERATE, {"year": this_year(), "half": half})
    assert response.status_code == 302, response.content.decode()
    draft = NulagesbildDraft.objects.get()
    assert response["Location"] == reverse("coordination:nulagesbild_draft", kwargs={"draft_id": draft.pk})
    return draft


def release(client: Client, draft: NulagesbildDraft) -> NulagesbildRelease:
    response = client.post(
        reverse("coordination:nulagesbild_release", kwargs={"draft_id": draft.pk}), {"sha256": draft.sha256}
    )
    published = NulagesbildRelease.objects.get()
    assert response["Location"] == reverse(
        "coordination:nulagesbild_detail", kwargs={"release_id": published.pk}
    )
    return published


def download(client: Client, published: NulagesbildRelease, fmt: str) -> bytes:
    url = reverse("coordination:nulagesbild_download", kwargs={"release_id": published.pk, "fmt": fmt})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="nulagesbild-{this_year()}.{fmt}"'
    return bytes(response.content)


@pytest.mark.parametrize(
    "persona", ["handlaggare", "samordnare", "granskare", "systemadministrator", "outsider"]
)
def test_everyone_but_a_chef_is_refused_every_page(
    persona: str, request: pytest.FixtureRequest, login_client
) -> None:
    user = request.getfixturevalue(persona)
    client = login_client(user)
    some_id = uuid.uuid4()
    assert client.get(INDEX).status_code == 403
    assert client.post(GENERATE, {"year": this_year(), "half": "helar"}).status_code == 403
    assert (
        client.get(reverse("coordination:nulagesbild_draft", kwargs={"draft_id": some_id})).status_code == 403
    )
    assert (
        client.post(reverse("coordination:nulagesbild_release", kwargs={"draft_id": some_id})).status_code
        == 403
    )
    assert (
        client.post(reverse("coordination:nulagesbild_discard", kwargs={"draft_id": some_id})).status_code
        == 403
    )
    assert (
        client.get(reverse("coordination:nulagesbild_detail", kwargs={"release_id": some_id})).status_code
        == 403
    )
    url = reverse("coordination:nulagesbild_download", kwargs={"release_id": some_id, "fmt": "pdf"})
    assert client.get(url).status_code == 403
    assert not NulagesbildDraft.objects.exists()


def test_a_chef_cannot_see_or_download_an_existing_release_through_another_role(
    chef: User, handlaggare: User, login_client
) -> None:
    published = release(login_client(chef), generate(login_client(chef)))
    other = login_client(handlaggare)
    assert (
        other.get(reverse("coordination:nulagesbild_detail", kwargs={"release_id": published.pk})).status_code
        == 403
    )
    url = reverse("coordination:nulagesbild_download", kwargs={"release_id": published.pk, "fmt": "csv"})
    assert other.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="nulagesbild.download").exists()


def test_anonymous_visitors_are_sent_to_log_in() -> None:
    response = Client().get(INDEX)
    assert response.status_code == 302 and response["Location"].startswith(reverse("access:login"))


def test_a_chef_of_any_agency_generates_reviews_releases_and_downloads(chef: User, login_client) -> None:
    client = login_client(chef)
    page = client.get(INDEX)
    assert page.status_code == 200
    assert "Ingen nulägesbild är publicerad än." in page.content.decode()
    draft = generate(client)
    review = client.get(reverse("coordination:nulagesbild_draft", kwargs={"draft_id": draft.pk}))
    text = review.content.decode()
    assert review.status_code == 200
    assert draft.sha256 in text  # the hash the release form sends back
    assert 'role="img"' in text and "<svg" in text and '<table class="nb-table">' in text
    assert "Juridiskt kön" in text and "Normkritisk läsning" in text
    assert "css/nulagesbild.css" in text
    published = release(client, draft)
    detail = client.get(reverse("coordination:nulagesbild_detail", kwargs={"release_id": published.pk}))
    assert detail.status_code == 200 and published.sha256 in detail.content.decode()
    assert "css/nulagesbild.css" in detail.content.decode()
    pdf = download(client, published, "pdf")
    assert pdf.startswith(b"%PDF") and pdf == download(client, published, "pdf")
    assert download(client, published, "csv").startswith("\ufeff".encode())
    listing = client.get(INDEX).content.decode()
    assert published.sha256[:16] in listing


def test_a_second_chef_releases_what_the_first_generated(chef: User, agency, login_client) -> None:
    other_chef = MembershipFactory.create(
        user=UserFactory.create(username="chef2"), agency=agency, role=Role.CHEF
    )
    draft = generate(login_client(chef))
    published = release(login_client(other_chef.user), draft)
    assert published.released_by == other_chef.user


def test_an_invalid_period_gets_a_swedish_error_and_the_choice_is_kept(chef: User, login_client) -> None:
    client = login_client(chef)
    response = client.post(GENERATE, {"year": "1999", "half": "3"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Inget utkast togs fram" in text
    assert "Välj ett giltigt alternativ" in text
    assert not NulagesbildDraft.objects.exists()


def test_a_period_that_has_not_begun_is_refused_in_the_form(chef: User, login_client, monkeypatch) -> None:
    from coordination.nulagesbild import forms

    year = this_year()
    monkeypatch.setattr(forms, "today", lambda: datetime.date(int(year), 3, 1))
    response = login_client(chef).post(GENERATE, {"year": year, "half": "2"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Perioden har inte börjat än." in text
    assert re.search(r'<input type="radio" name="half" value="2"[^>]*checked', text), "the choice is kept"
    assert not NulagesbildDraft.objects.exists()


def test_releasing_a_draft_with_a_stale_hash_keeps_the_draft_and_says_why(chef: User, login_client) -> None:
    client = login_client(chef)
    draft = generate(client)
    url = reverse("coordination:nulagesbild_release", kwargs={"draft_id": draft.pk})
    response = client.post(url, {"sha256": "f" * 64}, follow=True)
    assert "Utkastet är inte det som granskades" in response.content.decode()
    assert NulagesbildDraft.objects.filter(pk=draft.pk).exists()
    assert not NulagesbildRelease.objects.exists()


def test_a_draft_can_be_discarded(chef: User, login_client) -> None:
    client = login_client(chef)
    draft = generate(client)
    response = client.post(
        reverse("coordination:nulagesbild_discard", kwargs={"draft_id": draft.pk}), follow=True
    )
    assert "Utkastet är kastat." in response.content.decode()
    assert not NulagesbildDraft.objects.exists()


def test_unknown_ids_and_formats_are_not_found(chef: User, login_client) -> None:
    client = login_client(chef)
    assert (
        client.get(reverse("coordination:nulagesbild_draft", kwargs={"draft_id": uuid.uuid4()})).status_code
        == 404
    )
    assert (
        client.get(
            reverse("coordination:nulagesbild_detail", kwargs={"release_id": uuid.uuid4()})
        ).status_code
        == 404
    )
    published = release(client, generate(client))
    url = reverse("coordination:nulagesbild_download", kwargs={"release_id": published.pk, "fmt": "docx"})
    assert client.get(url).status_code == 404


def test_get_never_changes_anything(chef: User, login_client) -> None:
    client = login_client(chef)
    assert client.get(GENERATE).status_code == 405
    draft = generate(client)
    assert (
        client.get(reverse("coordination:nulagesbild_release", kwargs={"draft_id": draft.pk})).status_code
        == 405
    )
    assert (
        client.get(reverse("coordination:nulagesbild_discard", kwargs={"draft_id": draft.pk})).status_code
        == 405
    )


# --- Nothing of a case in any output ------------------------------------------------------------------


MARKERS = ("Markörsson Hemlig", "Markörfors Tystnad", "Markörberg Anonym")


def open_marked_cases(membership: Membership) -> list[Case]:
    cases = []
    for index, name in enumerate(MARKERS * 4):
        cases.append(
            open_case(
                membership,
                name=f"{name} {index}",
                identity_number=f"19811218{index:04d}"[:12],
                contact=f"Markörgatan {index}, 070-55{index:05d}",
                classification=Classification(
                    contexts=["vinr_partner"] if index % 4 else ["hrv"],
                    forms=["fysiskt", "psykiskt"],
                    relations=["partner"],
                    flags=["hbtqi"] if index % 3 == 0 else [],
                    children=Children(count=index % 3, report_made=index % 3 > 0 and index % 2 == 0),
                ),
            )
        )
    return cases


def test_no_reference_name_free_text_or_exact_date_appears_in_any_output(
    chef: User, handlaggare_membership: Membership, login_client, tmp_path: Path
) -> None:
    cases = open_marked_cases(handlaggare_membership)
    # Cases with every free text marked too: summary, contribution, risk notes, measures, incidents.
    create_marked_cases(handlaggare_membership, count=3)
    client = login_client(chef)
    draft = generate(client)
    review = client.get(
        reverse("coordination:nulagesbild_draft", kwargs={"draft_id": draft.pk})
    ).content.decode()
    published = release(client, draft)
    page = client.get(
        reverse("coordination:nulagesbild_detail", kwargs={"release_id": published.pk})
    ).content.decode()
    html = download(client, published, "html").decode("utf-8")
    csv_text = download(client, published, "csv").decode("utf-8-sig")
    pdf_bytes = download(client, published, "pdf")
    pdf_text = pdf_reading.text(pdf_bytes)
    pdf_raw = pdf_bytes.decode("latin-1")
    # The published numbers are there: fifteen new cases.
    overview = published.published()["tables"][0]
    new_total = overview["rows"][0]["cells"][-1]
    assert (overview["rows"][0]["key"], new_total["value"]) == ("nya", 15)
    assert "Nya ärenden" in pdf_text and ">15<" in html
    forbidden = [*MARKERS, "Markör", "Markörgatan", "070-55", "198112", FREE_TEXT_MARKER, "Åsa Öberg"]
    forbidden += [case.reference for case in Case.objects.all()]
    # The marked cases' risk assessment, protective measure and incident dates.
    forbidden += ["2026-01-01", "2026-01-02", "2026-01-03", "1/1", "2/1", "3/1"]
    opened = cases[0].opened_on
    forbidden += [opened.isoformat(), opened.strftime("%Y%m%d"), f"{opened.day}/{opened.month}"]
    # The pages around the content show the chef's own times; the content and the files show none.
    outputs = {
        "html": html,
        "csv": csv_text,
        "pdf text": pdf_text,
        "pdf bytes": pdf_raw,
        "stored content": published.content,
    }
    for name, text in outputs.items():
        leaked = [needle for needle in forbidden if needle in text]
        assert leaked == [], f"the {name} output contains {leaked}"
    for name, text in (("review page", review), ("release page", page)):
        needles = (*MARKERS, "Markör", FREE_TEXT_MARKER, *(case.reference for case in Case.objects.all()))
        leaked = [needle for needle in needles if needle in text]
        assert leaked == [], f"the {name} shows {leaked}"
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", html + csv_text + pdf_text)


def test_a_missing_pdf_font_is_a_clear_message_and_no_audit_entry(
    chef: User, login_client, no_pdf_font: None
) -> None:
    client = login_client(chef)
    published = release(client, generate(client))
    url = reverse("coordination:nulagesbild_download", kwargs={"release_id": published.pk, "fmt": "pdf"})
    response = client.get(url, follow=True)
    assert "ett typsnitt saknas på servern" in response.content.decode()
    assert not AuditEvent.objects.filter(action="nulagesbild.download").exists()


def test_a_period_that_is_not_over_can_be_reviewed_but_not_released(
    chef: User, login_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its figures still change with every case recorded, and two releases of one period differ by
    exactly those cases; the draft page says so and offers no button, and the action refuses."""
    client = login_client(chef)
    draft = generate(client)
    monkeypatch.setattr(release_module, "_today", lambda: datetime.date(int(this_year()), 12, 31))
    page = client.get(
        reverse("coordination:nulagesbild_draft", kwargs={"draft_id": draft.pk})
    ).content.decode()
    assert "Perioden är inte slut än." in page
    assert "Publicera nulägesbilden" not in page
    response = client.post(
        reverse("coordination:nulagesbild_release", kwargs={"draft_id": draft.pk}), {"sha256": draft.sha256}
    )
    assert response.status_code == 302
    assert not NulagesbildRelease.objects.exists()
    assert NulagesbildDraft.objects.filter(pk=draft.pk).exists()
    monkeypatch.setattr(release_module, "_today", lambda: datetime.date(int(this_year()) + 1, 1, 1))
    assert (
        "Publicera nulägesbilden"
        in client.get(
            reverse("coordination:nulagesbild_draft", kwargs={"draft_id": draft.pk})
        ).content.decode()
    )
