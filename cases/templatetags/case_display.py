"""Showing the case record's codes as their Swedish labels, and whether a user does casework."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.contrib.auth.models import AnonymousUser
from django.db import models

from access.models import CASEWORK_ROLES, Membership, User
from cases.choices import (
    CaseFlag,
    CaseStatus,
    ChildAgeBand,
    HonourSubtype,
    IdentityNumberKind,
    LegalGender,
    MeasureKind,
    PerpetratorRelation,
    ProtectedIdentity,
    RiskInstrument,
    RiskLevel,
    ViolenceContext,
    ViolenceForm,
)

register = template.Library()

VOCABULARIES: dict[str, type[models.TextChoices]] = {
    "context": ViolenceContext,
    "form": ViolenceForm,
    "honour": HonourSubtype,
    "relation": PerpetratorRelation,
    "flag": CaseFlag,
    "child_age": ChildAgeBand,
    "gender": LegalGender,
    "identity_kind": IdentityNumberKind,
    "protected_identity": ProtectedIdentity,
    "risk": RiskLevel,
    "instrument": RiskInstrument,
    "measure": MeasureKind,
    "status": CaseStatus,
}


@register.filter
def label(code: str, vocabulary: str) -> str:
    """The label of ``code``; an unknown code is shown as it is rather than hidden."""
    choices = VOCABULARIES[vocabulary]
    return str(choices(code).label) if code in choices.values else code


@register.filter
def labels(codes: Iterable[str], vocabulary: str) -> list[str]:
    """Labels in the vocabulary's own order (codes are stored sorted alphabetically)."""
    given = list(codes)
    known = [code for code in VOCABULARIES[vocabulary].values if code in given]
    return [label(code, vocabulary) for code in known + [code for code in given if code not in known]]


@register.filter
def each_label(codes: Iterable[str], vocabulary: str) -> list[str]:
    """Labels of a sequence as it is, repeats included (a trend)."""
    return [label(code, vocabulary) for code in codes]


@register.filter
def identity_number(number: str, kind: str) -> str:
    """A normalised personnummer or samordningsnummer as people write it: ÅÅÅÅMMDD-NNNN."""
    if (
        kind in (IdentityNumberKind.PERSONNUMMER, IdentityNumberKind.SAMORDNINGSNUMMER)
        and len(number) == 12
        and number.isdigit()
    ):
        return f"{number[:8]}-{number[8:]}"
    return number


@register.filter
def does_casework(user: User | AnonymousUser) -> bool:
    """Whether the user works with cases in any active agency (for the main navigation)."""
    if not user.is_authenticated:
        return False
    return Membership.objects.active().filter(user=user, role__in=CASEWORK_ROLES).exists()
