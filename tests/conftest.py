from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, Membership, Role, User
from cases.models import Case
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the database get the key store too: case data keys live there (cases/routers.py)."""
    for item in items:
        if (
            "live_server" in getattr(item, "fixturenames", ())
            and item.get_closest_marker("django_db") is None
        ):
            # Browser tests: the live server commits, so they need transactional access to both.
            item.add_marker(pytest.mark.django_db(transaction=True, databases=["default", "keys"]))
            continue
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(*marker.args, databases=["default", "keys"], **marker.kwargs),
                append=False,
            )


@pytest.fixture(autouse=True)
def _restore_active_language() -> Iterator[None]:
    # LocaleMiddleware activates the request's language on this thread and leaves it there; a test
    # that asks for English must not turn the next test's Swedish assertions into English ones.
    with translation.override(translation.get_language()):
        yield


@pytest.fixture
def agency(db: None) -> Agency:
    return AgencyFactory.create(code="soc-vuxen", name="Socialtjänsten vuxen")


@pytest.fixture
def other_agency(db: None) -> Agency:
    return AgencyFactory.create(code="polisen", name="Polisen", police=True)


def _persona(agency: Agency, role: str, username: str) -> User:
    membership = MembershipFactory.create(
        user=UserFactory.create(username=username), agency=agency, role=role
    )
    return membership.user


@pytest.fixture
def handlaggare(agency: Agency) -> User:
    return _persona(agency, Role.HANDLAGGARE, "handlaggare")


@pytest.fixture
def samordnare(agency: Agency) -> User:
    return _persona(agency, Role.SAMORDNARE, "samordnare")


@pytest.fixture
def chef(agency: Agency) -> User:
    return _persona(agency, Role.CHEF, "chef")


@pytest.fixture
def granskare(agency: Agency) -> User:
    return _persona(agency, Role.GRANSKARE, "granskare")


@pytest.fixture
def systemadministrator(agency: Agency) -> User:
    return _persona(agency, Role.SYSTEMADMINISTRATOR, "systemadministrator")


@pytest.fixture
def outsider(other_agency: Agency) -> User:
    """A handläggare of another agency: a different secrecy domain."""
    return _persona(other_agency, Role.HANDLAGGARE, "utomstaende")


@pytest.fixture
def handlaggare_membership(handlaggare: User) -> Membership:
    return handlaggare.memberships.get()


@pytest.fixture
def case(handlaggare_membership: Membership) -> Case:
    return open_case(handlaggare_membership)


@pytest.fixture
def login_client() -> Callable[[User], Client]:
    """A client logged in with both factors, as the real login flow would leave it."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return make


def _unregister_pdf_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the font registered so far (restored after the test): reportlab registers a name once per
    process, and these fixtures stand for another server."""
    from reportlab.pdfbase import pdfmetrics

    from coordination import pdf_fonts

    monkeypatch.setattr(pdf_fonts, "_registered", None)
    for name in (pdf_fonts.REGULAR, pdf_fonts.BOLD):
        monkeypatch.delitem(pdfmetrics._fonts, name, raising=False)


@pytest.fixture
def no_pdf_font(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A server with no font the PDFs can embed: neither DejaVu nor the Vera that reportlab ships."""
    from coordination import pdf_fonts

    empty = tmp_path_factory.mktemp("no-fonts")
    missing = tuple(
        pdf_fonts.FontSource(source.name, empty / source.regular.name, empty / source.bold.name)
        for source in pdf_fonts.SOURCES
    )
    monkeypatch.setattr(pdf_fonts, "SOURCES", missing)
    _unregister_pdf_fonts(monkeypatch)


@pytest.fixture
def without_dejavu(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A fresh machine without Debian's fonts-dejavu-core: the PDFs fall back to reportlab's Vera."""
    from coordination import pdf_fonts

    empty = tmp_path_factory.mktemp("no-dejavu")
    dejavu = pdf_fonts.FontSource("DejaVu Sans", empty / "DejaVuSans.ttf", empty / "DejaVuSans-Bold.ttf")
    monkeypatch.setattr(pdf_fonts, "SOURCES", (dejavu, pdf_fonts.VERA))
    _unregister_pdf_fonts(monkeypatch)
