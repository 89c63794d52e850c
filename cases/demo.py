"""Demo cases for the local demo: fictional people, fixed references, every part of the record used.

All names are invented. Created through the real actions, so they are sealed and audited like any case.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from access.models import Membership
from cases.actions import (
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_change_status,
    do_open_case,
    do_save_contribution,
    do_save_summary,
)
from cases.models import Case, ProtectiveMeasure, RiskAssessment
from cases.records import Children, Classification, PersonData


@dataclass(frozen=True)
class DemoCase:
    reference: str
    agency_code: str
    username: str
    opened_on: datetime.date
    person: PersonData
    classification: Classification
    summary: str
    risk_levels: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    incidents: tuple[datetime.date, ...] = ()
    closed_on: datetime.date | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


CASES = (
    DemoCase(
        reference="VR-DEMA-2K",
        agency_code="halmstad-soc-vuxen",
        username="handlaggare",
        opened_on=_date("2026-02-03"),
        person=PersonData(
            name="Sofia Demo Karlsson",
            identity_number="198112189876",
            contact="070-000 00 01 (demo)",
            safe_contact="Sms endast vardagar 9–16, aldrig röstmeddelande",
            address="Demogatan 1, 302 00 Halmstad",
            legal_gender="kvinna",
            birth_year=1981,
        ),
        classification=Classification(
            contexts=["vinr_partner"],
            forms=["fysiskt", "psykiskt", "ekonomiskt"],
            relations=["ex_partner"],
            flags=["funktionsnedsattning"],
            children=Children(
                count=2,
                age_bands=["3-5", "6-12"],
                witnessed=True,
                report_made=True,
                report_date=_date("2026-02-04"),
            ),
        ),
        summary=(
            "Kontakt via kvinnojouren efter polisanmälan.\n\nBarnen har bevittnat våld; orosanmälan gjord."
        ),
        risk_levels=("medel", "hog"),
        measures=("kontaktforbud", "trygghetslarm"),
        incidents=(_date("2025-11-20"), _date("2026-01-28")),
    ),
    DemoCase(
        reference="VR-DEMB-3M",
        agency_code="halmstad-soc-vuxen",
        username="samordnare",
        opened_on=_date("2026-05-12"),
        person=PersonData(
            name="Amina Demo Hassan",
            identity_kind="samordningsnummer",
            identity_number="200008751232",
            safe_contact="Endast via skolkurator",
            legal_gender="kvinna",
            birth_year=2000,
            protected_identity="skyddad_folkbokforing",
        ),
        classification=Classification(
            contexts=["hrv"],
            forms=["psykiskt", "digitalt"],
            honour_subtypes=["tvangsaktenskap", "begransningar"],
            relations=["flera"],
        ),
        summary="Familjen planerar äktenskap mot hennes vilja.\n\nSkyddat boende ordnat.",
        risk_levels=("hog",),
        measures=("skyddat_boende", "sakerhetsplan"),
        incidents=(_date("2026-05-10"),),
    ),
    DemoCase(
        reference="VR-DEMC-4P",
        agency_code="halmstad-soc-vuxen",
        username="handlaggare",
        opened_on=_date("2025-03-18"),
        closed_on=_date("2025-12-01"),
        person=PersonData(
            name="Erik Demo Lind",
            identity_number="",
            identity_kind="saknas",
            contact="035-000 00 03 (demo)",
            legal_gender="man",
            birth_year=1958,
        ),
        classification=Classification(
            contexts=["vinr_narstaende"],
            forms=["ekonomiskt", "forsummelse"],
            relations=["barn"],
            flags=["aldre"],
        ),
        summary="Vuxet barn har tagit kontroll över ekonomin.",
        risk_levels=("lag",),
    ),
    DemoCase(
        reference="VR-DEMD-5R",
        agency_code="polisen-halmstad",
        username="polis",
        opened_on=_date("2026-08-30"),
        person=PersonData(
            name="Kim Demo Andersson", identity_number="", identity_kind="saknas", legal_gender="annat"
        ),
        classification=Classification(
            contexts=["vinr_partner"], forms=["sexuellt", "digitalt"], relations=["partner"], flags=["hbtqi"]
        ),
        summary="Anmälan om olaga hot och spridning av bilder.",
        risk_levels=("medel",),
        measures=("kontaktforbud",),
    ),
)


def seed_cases() -> int:
    """Create the demo cases that do not exist yet; returns how many were created."""
    created = 0
    for item in CASES:
        if Case.objects.filter(reference=item.reference).exists():
            continue
        membership = Membership.objects.select_related("agency", "user").get(
            user__username=item.username, agency__code=item.agency_code
        )
        user = membership.user
        kwargs: dict[str, Any] = {"acting_user": user, "membership": membership}
        case = do_open_case(
            person=item.person,
            classification=item.classification,
            opened_on=item.opened_on,
            reference=item.reference,
            **kwargs,
        )
        do_save_summary(case, text=item.summary, based_on=0, on=item.opened_on, **kwargs)
        do_save_contribution(
            case, text=f"Demobidrag från {membership.agency.name}.", based_on=0, on=item.opened_on, **kwargs
        )
        for offset, level in enumerate(item.risk_levels):
            assessment = RiskAssessment.new(
                instrument="freda",
                instrument_version="2",
                level=level,
                assessed_on=item.opened_on + datetime.timedelta(days=7 * offset),
                next_review_on=item.opened_on + datetime.timedelta(days=7 * offset + 30),
            )
            do_add_risk_assessment(case, assessment=assessment, **kwargs)
        for kind in item.measures:
            measure = ProtectiveMeasure.new(
                kind=kind,
                starts_on=item.opened_on,
                responsible_agency=membership.agency,
                review_on=item.opened_on + datetime.timedelta(days=90),
            )
            do_add_protective_measure(case, measure=measure, **kwargs)
        for day in item.incidents:
            do_add_incident(case, occurred_on=day, forms=item.classification.forms[:1], **kwargs)
        if item.closed_on:
            do_change_status(case, new_status="avslutat", on=item.closed_on, **kwargs)
        created += 1
    return created
