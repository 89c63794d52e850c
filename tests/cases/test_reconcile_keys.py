"""manage.py reconcile_keys: keys without a case and cases without a key, found both ways; only old orphan
keys are ever deleted, and never the key of a case that exists."""

from __future__ import annotations

import datetime
import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.models import Case, CaseKey

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile_keys", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def orphan(age: datetime.timedelta) -> uuid.UUID:
    """A key whose case was never committed (an opening that failed between the two databases)."""
    case_id = uuid.uuid4()
    CaseKey.objects.create(case_id=case_id, kek_version="v1", wrapped_key=b"\x00" * 40)
    CaseKey.objects.filter(case_id=case_id).update(created_at=timezone.now() - age)
    return case_id


def test_both_databases_agree(case: Case) -> None:
    assert run() == (0, "The key store and the main database agree.\n")


def test_an_old_key_without_a_case_is_listed_and_deleted_on_request(case: Case) -> None:
    lost = orphan(datetime.timedelta(days=2))
    status, output = run()
    assert status == 1
    assert f"key without a case: {lost}" in output
    assert "1 key(s) without a case, 0 case(s) without a key" in output
    assert CaseKey.objects.filter(case_id=lost).exists(), "listing alone deletes nothing"
    status, output = run("--delete-orphan-keys")
    assert status == 0, output
    assert "Deleted 1 key(s) without a case." in output
    assert not CaseKey.objects.filter(case_id=lost).exists()
    assert CaseKey.objects.filter(case_id=case.pk).exists(), "the key of an existing case is never touched"


def test_a_young_key_may_belong_to_a_case_being_opened_and_is_left_alone(case: Case) -> None:
    opening = orphan(datetime.timedelta(minutes=5))
    assert run("--delete-orphan-keys")[0] == 0
    assert CaseKey.objects.filter(case_id=opening).exists()


def test_a_case_without_its_key_is_reported_and_nothing_is_deleted(case: Case) -> None:
    CaseKey.objects.filter(case_id=case.pk).delete()
    status, output = run("--delete-orphan-keys")
    assert status == 1
    assert f"case without a key: {case.reference} ({case.pk}): unreadable" in output
    assert "0 key(s) without a case, 1 case(s) without a key" in output
    assert Case.objects.filter(pk=case.pk).exists()
