"""A case whose data key a half-finished gallring destroyed: its pages say so (410) instead of a server
error, an outsider still gets "not found", and it cannot be put on legal hold."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import Membership, User
from cases.actions import CaseActionError, do_set_legal_hold
from cases.models import Case, CaseKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def shredded(case: Case) -> Case:
    CaseKey.objects.filter(case_id=case.pk).delete()
    return case


@pytest.mark.parametrize("name", ["detail", "person", "summary"])
def test_its_pages_say_it_is_being_purged(name: str, shredded: Case, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).get(reverse(f"cases:{name}", args=[shredded.reference]))
    assert response.status_code == 410
    body = response.content.decode()
    assert "Ärendet gallras" in body
    assert "gallringen av ärendet påbörjades men blev inte klar" in body
    assert str(shredded.pk) not in body


def test_an_outsider_still_gets_not_found(shredded: Case, outsider: User, login_client) -> None:
    response = login_client(outsider).get(reverse("cases:detail", args=[shredded.reference]))
    assert response.status_code == 404


def test_it_cannot_be_put_on_legal_hold(
    shredded: Case, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    with pytest.raises(CaseActionError, match="redan förstörda vid gallring"):
        do_set_legal_hold(shredded, acting_user=handlaggare, membership=handlaggare_membership, hold=True)
    response = login_client(handlaggare).post(
        reverse("cases:legal_hold", args=[shredded.reference]), {"hold": "ja"}, follow=True
    )
    shredded.refresh_from_db()
    assert shredded.legal_hold is False
    assert "redan förstörda vid gallring" in response.content.decode()
