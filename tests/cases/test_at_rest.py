"""Project-wide guard: a new text column on a case model must be sealed or explicitly non-personal."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from access.models import Membership
from tests.factories import open_case

# Plaintext columns allowed on case models, each because it identifies nobody and is needed without
# keys (access control, lists, lookups, statistics). Adding one here is a privacy decision.
PLAINTEXT_ALLOWED = {
    "case": {"reference", "status"},
    "casekey": {"kek_version"},
    "person": {"identity_kind", "identity_index", "protected_identity"},
    # Agency codes, category codes and the legal basis: the justification itself is sealed.
    "disclosure": {"legal_basis", "categories", "never_disclose_to", "end_kind"},
    # The action and the reason code of the audit event the note belongs to (the event holds them too).
    "exportnote": {"action", "reason"},
}


def test_every_text_column_of_a_case_model_is_sealed_or_allowed() -> None:
    offenders = []
    for model in apps.get_app_config("cases").get_models():
        allowed = PLAINTEXT_ALLOWED.get(model._meta.model_name, set())
        for field in model._meta.concrete_fields:
            if (
                isinstance(field, models.CharField | models.TextField | models.JSONField)
                and field.name not in allowed
            ):
                offenders.append(f"{model._meta.label}.{field.name}")
            if (
                isinstance(field, models.BinaryField)
                and not field.name.endswith("_sealed")
                and field.name != "wrapped_key"
            ):
                offenders.append(f"{model._meta.label}.{field.name} (binary but not *_sealed)")
    assert offenders == [], f"plaintext columns that may hold personal data: {offenders}"


@pytest.mark.django_db
def test_str_of_every_case_row_shows_no_personal_data(handlaggare_membership: Membership) -> None:
    from tests.cases.marker_data import MARKER, create_marked_cases

    create_marked_cases(handlaggare_membership, count=1)
    open_case(handlaggare_membership, name=f"{MARKER} extra")
    for model in apps.get_app_config("cases").get_models():
        for row in model.objects.all():
            assert MARKER not in str(row), f"str() of {model._meta.label} shows personal data"
            assert MARKER not in repr(row), f"repr() of {model._meta.label} shows personal data"


def test_case_models_are_not_in_the_admin() -> None:
    # The admin would show sealed bytes at best and invite editing around the actions at worst.
    from django.contrib import admin

    registered = {model._meta.app_label for model in admin.site._registry}
    assert "cases" not in registered


@pytest.mark.django_db
def test_every_sealed_field_round_trips(handlaggare_membership: Membership) -> None:
    """Each marked value written through the actions comes back, decrypted, in the audited read."""
    from cases.models import Case
    from cases.reading import read_case
    from tests.cases.marker_data import MARKER, create_marked_cases

    create_marked_cases(handlaggare_membership, count=1)
    case = Case.objects.get()
    detail = read_case(
        case, user=handlaggare_membership.user, membership=handlaggare_membership, request=None
    )
    texts = {
        "name": detail.person.name,
        "contact": detail.person.contact,
        "safe": detail.person.safe_contact,
        "address": detail.person.address,
        "summary": " ".join(p.text for p in detail.summary),
        "contribution": " ".join(c.text for c in detail.contributions),
        "override": detail.risks[0].override_reason,
        "risknotes": detail.risks[0].notes,
        "measure": detail.measures[0].notes,
        "incident": detail.incidents[0].notes,
    }
    for label, text in texts.items():
        assert text.startswith(f"{MARKER}-{label}"), f"{label} did not round-trip: {text!r}"
    assert detail.person.identity_number == "198112189876"
    assert detail.classification.flags == ["funktionsnedsattning", "hbtqi"]
    assert detail.incidents[0].forms == ["fysiskt"]
