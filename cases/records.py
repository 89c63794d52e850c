"""Plain data for what is sealed: what forms hand to actions, and what an audited read hands to views.

Their ``__repr__`` hides every personal value, so a dataclass in a log line or a traceback leaks nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, fields
from typing import Any

from cases.choices import CaseFlag, IdentityNumberKind, LegalGender, ProtectedIdentity


class _Redacted:
    def __repr__(self) -> str:
        names = ", ".join(f.name for f in fields(self))  # type: ignore[arg-type]
        return f"<{type(self).__name__} ({names}) – contents hidden>"


@dataclass(repr=False)
class PersonData(_Redacted):
    name: str
    identity_kind: str = IdentityNumberKind.PERSONNUMMER
    identity_number: str = ""  # normalised (cases.identity)
    contact: str = ""
    safe_contact: str = ""
    address: str = ""
    legal_gender: str = LegalGender.OTHER
    birth_year: int | None = None
    protected_identity: str = ProtectedIdentity.NONE


@dataclass(repr=False)
class Children(_Redacted):
    count: int = 0
    age_bands: list[str] = field(default_factory=list)
    witnessed: bool = False
    report_made: bool = False
    report_date: datetime.date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "age_bands": sorted(self.age_bands),
            "witnessed": self.witnessed,
            "report_made": self.report_made,
            "report_date": self.report_date.isoformat() if self.report_date else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Children:
        report_date = data.get("report_date")
        return cls(
            count=int(data.get("count", 0)),
            age_bands=list(data.get("age_bands", [])),
            witnessed=bool(data.get("witnessed", False)),
            report_made=bool(data.get("report_made", False)),
            report_date=datetime.date.fromisoformat(report_date) if report_date else None,
        )


@dataclass(repr=False)
class Classification(_Redacted):
    contexts: list[str] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    honour_subtypes: list[str] = field(default_factory=list)
    relations: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    children: Children = field(default_factory=Children)

    def to_json(self) -> dict[str, Any]:
        return {
            "contexts": sorted(self.contexts),
            "forms": sorted(self.forms),
            "honour_subtypes": sorted(self.honour_subtypes),
            "relations": sorted(self.relations),
            "flags": sorted(self.flags),
            "children": self.children.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Classification:
        data = data or {}
        return cls(
            contexts=list(data.get("contexts", [])),
            forms=list(data.get("forms", [])),
            honour_subtypes=list(data.get("honour_subtypes", [])),
            relations=list(data.get("relations", [])),
            flags=list(data.get("flags", [])),
            children=Children.from_json(data.get("children", {})),
        )

    def effective_flags(self) -> set[str]:
        """Flags as recorded, plus those the children's details imply."""
        flags = set(self.flags)
        if self.children.count > 0:
            flags.add(CaseFlag.CHILDREN_IN_HOUSEHOLD)
        if self.children.witnessed:
            flags.add(CaseFlag.CHILDREN_WITNESSED)
        if self.children.report_made:
            flags.add(CaseFlag.REPORT_OF_CONCERN)
        return flags


@dataclass(repr=False)
class Paragraph(_Redacted):
    agency_code: str
    agency_name: str
    text: str
