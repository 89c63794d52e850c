"""Cases whose every identifying value and free text carries a marker string, for the dump tests."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from access.models import Membership
from cases.actions import (
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_save_contribution,
    do_save_summary,
)
from cases.models import ProtectiveMeasure, RiskAssessment
from cases.records import Children, Classification
from tests.factories import open_case

MARKER = "ZZMARKER"
PERSONNUMMER = "198112189876"


def create_marked_cases(membership: Membership, count: int = 3) -> None:
    kwargs = {"acting_user": membership.user, "membership": membership}
    for n in range(count):
        case = open_case(
            membership,
            name=f"{MARKER}-name-{n} Åsa Öberg",
            identity_number=PERSONNUMMER if n == 0 else "",
            contact=f"{MARKER}-contact-{n}",
            safe_contact=f"{MARKER}-safe-{n}",
            address=f"{MARKER}-address-{n}",
            classification=Classification(
                contexts=["hrv"],
                forms=["sexuellt"],
                flags=["hbtqi", "funktionsnedsattning"],
                children=Children(count=1),
            ),
        )
        do_save_summary(case, text=f"{MARKER}-summary-{n}", based_on=0, **kwargs)
        do_save_contribution(case, text=f"{MARKER}-contribution-{n}", based_on=0, **kwargs)
        do_add_risk_assessment(
            case,
            assessment=RiskAssessment.new(
                instrument="freda", assessed_on=datetime.date(2026, 1, 1), level="lag", override_level="hog"
            ),
            override_reason=f"{MARKER}-override-{n}",
            notes=f"{MARKER}-risknotes-{n}",
            **kwargs,
        )
        do_add_protective_measure(
            case,
            measure=ProtectiveMeasure.new(
                kind="kontaktforbud",
                starts_on=datetime.date(2026, 1, 2),
                responsible_agency=membership.agency,
            ),
            notes=f"{MARKER}-measure-{n}",
            **kwargs,
        )
        do_add_incident(
            case,
            occurred_on=datetime.date(2026, 1, 3),
            forms=["fysiskt"],
            notes=f"{MARKER}-incident-{n}",
            **kwargs,
        )


FREE_TEXT_KEYS = {"name", "contact", "safe_contact", "address", "summary", "override_reason", "notes"}
EXAMPLE = Path(__file__).resolve().parent / "data" / "import-example.json"


def write_marked_import_file(path: Path) -> None:
    """The documented example import, with every free text and identity value carrying the marker."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))

    def mark(node: object, where: str = "") -> object:
        if isinstance(node, dict):
            marked: dict[str, object] = {}
            for key, value in node.items():
                # An empty address stays empty: protected-identity people have none.
                if key in FREE_TEXT_KEYS and isinstance(value, str) and (value or key != "address"):
                    marked[key] = f"{MARKER}-{where}{key}"
                else:
                    marked[key] = mark(value, f"{where}{key}-")
            return marked
        if isinstance(node, list):
            return [mark(item, f"{where}{index}-") for index, item in enumerate(node)]
        return node

    path.write_text(json.dumps(mark(data), ensure_ascii=False), encoding="utf-8")
