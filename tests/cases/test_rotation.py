"""Key rotation re-wraps every data key; afterwards the old key can go and everything still opens."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from access.models import AuditEvent, Membership
from cases.keys import reset_key_provider, write_key_file
from cases.models import Case, CaseKey
from cases.reading import read_case
from tests.factories import open_case

pytestmark = pytest.mark.django_db

OLD = "dGVzdC1rZWstdmVyc2lvbi0xLWZvci10ZXN0cy0wMDE="  # t1, as in coordination/settings_test.py
NEW = base64.b64encode(b"N" * 32).decode()


@pytest.fixture(autouse=True)
def _fresh_keys() -> Iterator[None]:
    reset_key_provider()
    yield
    reset_key_provider()


def use_keys(monkeypatch: pytest.MonkeyPatch, keks: str, current: str) -> None:
    monkeypatch.setenv("SKYDDSNAT_KEKS", keks)
    monkeypatch.setenv("SKYDDSNAT_KEK_CURRENT", current)
    reset_key_provider()


def cases(membership: Membership, count: int) -> list[Case]:
    return [open_case(membership, name=f"Person {n}", identity_number="") for n in range(count)]


def test_rotation_rewraps_everything_and_the_old_key_can_be_retired(
    handlaggare_membership: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = cases(handlaggare_membership, 5)
    assert set(CaseKey.objects.values_list("kek_version", flat=True)) == {"t1"}
    wrapped_before = dict(CaseKey.objects.values_list("case_id", "wrapped_key"))

    use_keys(monkeypatch, f"t1:{OLD},t2:{NEW}", "t2")
    out = StringIO()
    call_command("rotate_keys", batch_size=2, stdout=out)
    assert "Re-wrapped 5 data keys to key version t2" in out.getvalue()
    assert "Versions t1 can now be retired" in out.getvalue()
    assert set(CaseKey.objects.values_list("kek_version", flat=True)) == {"t2"}
    for case_id, wrapped in CaseKey.objects.values_list("case_id", "wrapped_key"):
        assert bytes(wrapped) != bytes(wrapped_before[case_id])

    use_keys(monkeypatch, f"t2:{NEW}", "t2")  # t1 retired
    for case in opened:
        detail = read_case(
            case, user=handlaggare_membership.user, membership=handlaggare_membership, request=None
        )
        assert detail.person.name.startswith("Person ")
    assert AuditEvent.objects.filter(action="keys.rotate").exists()


def test_a_stopped_rotation_is_finished_by_the_next_run(
    handlaggare_membership: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases(handlaggare_membership, 5)
    use_keys(monkeypatch, f"t1:{OLD},t2:{NEW}", "t2")
    out = StringIO()
    call_command("rotate_keys", batch_size=2, max_batches=1, stdout=out)
    assert "Still on older versions (run again): t1: 3" in out.getvalue()
    # New cases created meanwhile by a node with the new configuration are already on t2.
    cases(handlaggare_membership, 1)
    call_command("rotate_keys", batch_size=2, stdout=StringIO())
    assert set(CaseKey.objects.values_list("kek_version", flat=True)) == {"t2"}


def test_retiring_a_key_too_early_is_a_clear_error_and_loses_nothing(
    handlaggare_membership: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = cases(handlaggare_membership, 1)[0]
    use_keys(monkeypatch, f"t2:{NEW}", "t2")
    with pytest.raises(CommandError, match="version 't1' is not configured"):
        call_command("rotate_keys", stdout=StringIO())
    use_keys(monkeypatch, f"t1:{OLD},t2:{NEW}", "t2")
    call_command("rotate_keys", stdout=StringIO())
    assert read_case(
        case, user=handlaggare_membership.user, membership=handlaggare_membership, request=None
    ).person.name


def test_a_key_file_gets_a_new_version_and_rotation_in_one_step(
    handlaggare_membership: Membership, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    write_key_file(path, current="f1")
    for variable in (
        "SKYDDSNAT_KEKS",
        "SKYDDSNAT_KEK_CURRENT",
        "SKYDDSNAT_BLIND_INDEX_KEY",
        "SKYDDSNAT_PSEUDONYM_KEY",
    ):
        monkeypatch.delenv(variable)
    monkeypatch.setenv("SKYDDSNAT_KEY_FILE", str(path))
    reset_key_provider()
    case = cases(handlaggare_membership, 1)[0]
    call_command("rotate_keys", add_key_version="f2", stdout=StringIO())
    content = json.loads(path.read_text())
    assert content["current"] == "f2"
    assert set(content["keks"]) == {"f1", "f2"}
    assert path.stat().st_mode & 0o777 == 0o600
    assert CaseKey.objects.get(case_id=case.pk).kek_version == "f2"
    with pytest.raises(CommandError, match="already exists"):
        call_command("rotate_keys", add_key_version="f2", stdout=StringIO())
