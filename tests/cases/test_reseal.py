"""manage.py reseal_fields: values sealed before padding (format 1, or empty columns) are rewritten padded,
still open to the same plaintext, and a second run finds nothing; --check only counts."""

from __future__ import annotations

import io
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import call_command

from access.models import AuditEvent, Membership
from cases.crypto import FORMAT_V1, is_padded
from cases.models import Case, Person
from cases.vault import CaseVault
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def old_style(vault: CaseVault, row: object, name: str, text: str) -> bytes:
    """How format 1 sealed a value: no padding, so the length followed the plaintext."""
    key = vault._data_key
    nonce = os.urandom(12)
    aad = f"skyddsnat/field/v1|{row._meta.db_table}|{name}|{row.pk}".encode()
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, text.encode(), aad)


def run(*arguments: str) -> str:
    out = io.StringIO()
    call_command("reseal_fields", *arguments, stdout=out)
    return out.getvalue()


def test_old_ciphertexts_are_rewritten_padded_and_still_open(handlaggare_membership: Membership) -> None:
    case = open_case(handlaggare_membership, name="Åsa Öberg")
    vault = CaseVault.for_case(case)
    person = case.person
    Person.objects.filter(pk=person.pk).update(
        legal_gender_sealed=old_style(vault, person, "legal_gender", "kvinna"), contact_sealed=b""
    )
    Case.objects.filter(pk=case.pk).update(
        classification_sealed=old_style(vault, case, "classification", '{"flags": ["hbtqi"]}')
    )
    assert run("--check") == "3 sealed value(s) in 2 row(s) would be rewritten.\n"
    assert not is_padded(Person.objects.get(pk=person.pk).legal_gender_sealed)

    assert run() == "3 sealed value(s) in 2 row(s) rewritten.\n"
    person = Person.objects.get(pk=person.pk)
    case = Case.objects.get(pk=case.pk)
    assert vault.open(person, "legal_gender") == "kvinna" and vault.open(person, "contact") == ""
    assert vault.open(case, "classification") == '{"flags": ["hbtqi"]}'
    assert len(bytes(person.legal_gender_sealed)) == len(bytes(person.name_sealed)) == 1 + 12 + 64 + 16
    assert len(bytes(case.classification_sealed)) == 1 + 12 + 2048 + 16
    (event,) = AuditEvent.objects.filter(action="maintenance.reseal")
    assert event.details == {"rows": 2, "values": 3}
    assert run() == "0 sealed value(s) in 0 row(s) rewritten.\n"


def test_a_protected_persons_address_stays_empty(handlaggare_membership: Membership) -> None:
    case = open_case(handlaggare_membership, protected_identity="sekretessmarkering")
    assert bytes(case.person.address_sealed) == b""
    assert run() == "0 sealed value(s) in 0 row(s) rewritten.\n"
    assert bytes(Person.objects.get(pk=case.person.pk).address_sealed) == b""
