"""The documented demo data: agencies of every kind and one user for every role.

Everything here is public (README.md lists it), so it must never reach a production database:
see the seed_demo command for the guards.
"""

from __future__ import annotations

from dataclasses import dataclass

from access.models import AgencyKind, Role

DEMO_PASSWORD = "Skyddsnat-demo-2026"  # noqa: S105 - published on purpose, demo only
# One shared TOTP secret for every demo user, so one entry in an authenticator app serves them all.
DEMO_TOTP_KEY_HEX = "536b7964646e61742d64656d6f2d746f74702d31"  # noqa: S105 - published on purpose
DEMO_TOTP_BASE32 = "KNVXSZDENZQXILLEMVWW6LLUN52HALJR"
# The enrolment link of the demo user who has not enrolled yet (/konto/aktivera/<this>/).
DEMO_ENROLMENT_TOKEN = "demo-aktivering-ny"  # noqa: S105 - published on purpose, demo only


@dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    memberships: tuple[tuple[str, str], ...]  # (agency code, role)
    enrolled: bool = True


AGENCIES = (
    DemoAgency(
        "halmstad-soc-vuxen",
        "Halmstads kommun, socialtjänsten vuxen",
        AgencyKind.SOCIAL_SERVICES_ADULTS,
    ),
    DemoAgency(
        "halmstad-soc-barn",
        "Halmstads kommun, socialtjänsten barn och unga",
        AgencyKind.SOCIAL_SERVICES_CHILDREN,
    ),
    DemoAgency("polisen-halmstad", "Polisen, lokalpolisområde Halmstad", AgencyKind.POLICE),
    DemoAgency("region-halland", "Region Halland, hälso- och sjukvård", AgencyKind.HEALTH_CARE),
    DemoAgency("halmstad-skola", "Halmstads kommun, skola och förskola", AgencyKind.SCHOOL),
    DemoAgency("kvinnojouren-halmstad", "Kvinnojouren i Halmstad", AgencyKind.NON_PROFIT),
    DemoAgency("kriminalvarden", "Kriminalvården, frivården Halmstad", AgencyKind.OTHER),
)

USERS = (
    DemoUser("handlaggare", "Anna", "Lindqvist", (("halmstad-soc-vuxen", Role.HANDLAGGARE),)),
    DemoUser("polis", "Johan", "Ek", (("polisen-halmstad", Role.HANDLAGGARE),)),
    DemoUser("jour", "Sara", "Nilsson", (("kvinnojouren-halmstad", Role.HANDLAGGARE),)),
    DemoUser(
        "samordnare",
        "Maria",
        "Berg",
        (("halmstad-soc-vuxen", Role.SAMORDNARE), ("halmstad-soc-barn", Role.HANDLAGGARE)),
    ),
    DemoUser("chef", "Eva", "Holm", (("halmstad-soc-vuxen", Role.CHEF),)),
    DemoUser("granskare", "Karin", "Ström", (("halmstad-soc-vuxen", Role.GRANSKARE),)),
    DemoUser(
        "admin",
        "Per",
        "Olsson",
        (("halmstad-soc-vuxen", Role.SYSTEMADMINISTRATOR),),
    ),
    # A second administrator, so a role one grants can be confirmed by the other.
    DemoUser("admin2", "Ali", "Karimi", (("halmstad-soc-barn", Role.SYSTEMADMINISTRATOR),)),
    # Has no authenticator yet: enrols through the published enrolment link (demo_instructions prints it).
    DemoUser("ny", "Lina", "Ahmed", (("halmstad-soc-barn", Role.HANDLAGGARE),), enrolled=False),
)
