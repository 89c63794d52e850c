"""factory_boy factories whose traits read like the domain."""

from __future__ import annotations

import time
from binascii import unhexlify

import factory
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, AgencyKind, Membership, Role, User
from cases.models import Case

PASSWORD = "Ett-riktigt-bra-losenord-42"


class AgencyFactory(factory.django.DjangoModelFactory[Agency]):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"myndighet-{n}")
    name = factory.Sequence(lambda n: f"Myndighet {n}")
    kind = AgencyKind.SOCIAL_SERVICES_ADULTS

    class Params:
        police = factory.Trait(kind=AgencyKind.POLICE)
        womens_shelter = factory.Trait(kind=AgencyKind.NON_PROFIT)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"anvandare{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation  # type: ignore[untyped-decorator]
    def totp(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Every user has a confirmed TOTP device unless built with ``totp=False``."""
        if create and extracted is not False:
            TOTPDevice.objects.create(user=self, name="Test", confirmed=True)
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.HANDLAGGARE


def current_code(user: User) -> str:
    """The code the user's authenticator app would show right now."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return code_for_key(device.key)


def code_for_key(key_hex: str, *, offset_steps: int = 0) -> str:
    totp = TOTP(unhexlify(key_hex))
    totp.time = time.time() + offset_steps * 30
    return f"{totp.token():06d}"


def open_case(
    membership: Membership,
    *,
    name: str = "Testperson Exempelsson",
    identity_number: str = "198112189876",
    **person: object,
) -> Case:
    """A case opened through the real action, so it is sealed and audited exactly as in production."""
    from cases.actions import do_open_case
    from cases.records import Classification, PersonData

    classification = person.pop("classification", None) or Classification(
        contexts=["vinr_partner"], forms=["fysiskt", "psykiskt"], relations=["partner"]
    )
    data = PersonData(name=name, identity_number=identity_number, legal_gender="kvinna", birth_year=1981)
    for key, value in person.items():
        setattr(data, key, value)
    return do_open_case(
        acting_user=membership.user,
        membership=membership,
        person=data,
        classification=classification,
    )


def enrolment_link(user: User, *, purpose: str = "invitation", hours: float = 24) -> str:
    """An enrolment link for ``user`` as the administration would send it; returns its secret token."""
    import datetime
    import secrets

    from django.utils import timezone

    from access.models import EnrolmentLink
    from access.models_admin import token_digest

    token = secrets.token_urlsafe(32)
    EnrolmentLink.objects.create(
        user=user,
        token_hash=token_digest(token),
        purpose=purpose,
        expires_at=timezone.now() + datetime.timedelta(hours=hours),
    )
    return token
