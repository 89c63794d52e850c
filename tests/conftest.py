from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, Role, User
from tests.factories import AgencyFactory, MembershipFactory, UserFactory


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
