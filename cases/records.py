"""Plain data for what is sealed: what forms hand to actions, and what an audited read hands to views.

Their ``__repr__`` hides every personal value, so a dataclass in a log line or a traceback leaks nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, fields
from typing import Any

from django.utils.translation import gettext_lazy as _

from cases.choices import CaseFlag, IdentityNumberKind, LegalGender, ProtectedIdentity, ViolenceContext

# The most children one case records (the form's limit; the nulägesbild sums them).
MAX_CHILDREN = 20
# Flags that follow from the children's details and are never recorded by hand.
DERIVED_FLAGS: frozenset[str] = frozenset(
    {CaseFlag.CHILDREN_IN_HOUSEHOLD, CaseFlag.CHILDREN_WITNESSED, CaseFlag.REPORT_OF_CONCERN}
)

# The rules every classification keeps, whichever way it comes in (the form, the importer, any caller
# of the actions), by code. The nulägesbild's disclosure control relies on them too: a reader knows
# that every case has a context and that "witnessed" and "orosanmälan" need children.
CONTEXT_REQUIRED = "context_required"
TOO_MANY_CHILDREN = "too_many_children"
CHILD_DETAILS_WITHOUT_CHILDREN = "child_details_without_children"
REPORT_DATE_WITHOUT_REPORT = "report_date_without_report"
REPORT_DATE_IN_FUTURE = "report_date_in_future"
SUBTYPE_WITHOUT_HONOUR_CONTEXT = "subtype_without_honour_context"
DERIVED_FLAG_RECORDED = "derived_flag_recorded"
CLASSIFICATION_RULES = (
    CONTEXT_REQUIRED,
    TOO_MANY_CHILDREN,
    CHILD_DETAILS_WITHOUT_CHILDREN,
    REPORT_DATE_WITHOUT_REPORT,
    REPORT_DATE_IN_FUTURE,
    SUBTYPE_WITHOUT_HONOUR_CONTEXT,
    DERIVED_FLAG_RECORDED,
)
# For the actions, which refuse a classification that breaks a rule (the form says the same per field);
# interpolated with {"limit": MAX_CHILDREN} when used (rule_message).
RULE_MESSAGES = {
    CONTEXT_REQUIRED: _("Välj minst ett sammanhang."),
    TOO_MANY_CHILDREN: _("Antalet barn kan vara högst %(limit)s."),
    CHILD_DETAILS_WITHOUT_CHILDREN: _("Ange hur många barn det gäller."),
    REPORT_DATE_WITHOUT_REPORT: _("Datum för orosanmälan kan bara anges när en orosanmälan är gjord."),
    REPORT_DATE_IN_FUTURE: _("Datumet kan inte ligga i framtiden."),
    SUBTYPE_WITHOUT_HONOUR_CONTEXT: _(
        "Former av hedersrelaterat våld och förtryck kan bara väljas när sammanhanget är "
        "hedersrelaterat våld och förtryck."
    ),
    DERIVED_FLAG_RECORDED: _(
        "Barn i hushållet, bevittnat våld och orosanmälan anges med uppgifterna om barnen."
    ),
}


class _Redacted:
    def __repr__(self) -> str:
        names = ", ".join(f.name for f in fields(self))  # type: ignore[arg-type]
        return f"<{type(self).__name__} ({names}) – contents hidden>"


def rule_message(rule: str) -> str:
    return str(RULE_MESSAGES[rule]) % {"limit": MAX_CHILDREN}


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

    def broken_rules(self, *, today: datetime.date) -> list[str]:
        """The codes of CLASSIFICATION_RULES this classification breaks, in that order."""
        children = self.children
        broken = {
            CONTEXT_REQUIRED: not self.contexts,
            TOO_MANY_CHILDREN: not 0 <= children.count <= MAX_CHILDREN,
            CHILD_DETAILS_WITHOUT_CHILDREN: children.count == 0
            and bool(children.age_bands or children.witnessed or children.report_made),
            REPORT_DATE_WITHOUT_REPORT: children.report_date is not None and not children.report_made,
            REPORT_DATE_IN_FUTURE: children.report_date is not None and children.report_date > today,
            SUBTYPE_WITHOUT_HONOUR_CONTEXT: bool(self.honour_subtypes)
            and ViolenceContext.HONOUR not in self.contexts,
            DERIVED_FLAG_RECORDED: bool(DERIVED_FLAGS & set(self.flags)),
        }
        return [rule for rule in CLASSIFICATION_RULES if broken[rule]]

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
