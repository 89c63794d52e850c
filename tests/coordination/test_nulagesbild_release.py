"""Generating, releasing and downloading a nulägesbild: audited, immutable, exactly as released."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from access.audit import AuditWriteError
from access.models import AuditEvent, Membership, User
from cases.actions import CaseActionError
from coordination.nulagesbild import release as release_module
from coordination.nulagesbild.content import UnprotectedReleaseError, content_hash
from coordination.nulagesbild.models import NulagesbildDraft, NulagesbildRelease, ReleaseImmutableError
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.release import (
    chef_membership,
    do_discard_draft,
    do_download_release,
    do_export,
    do_generate_draft,
    do_release_draft,
)
from tests.coordination.nulagesbild_data import random_records, store_records

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def the_period_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """Release day is after this year's end (only a period that is over can be released); a test of
    the refusal sets the day back itself."""
    year = timezone.localdate().year
    monkeypatch.setattr(release_module, "_today", lambda: datetime.date(year + 1, 1, 2))


@pytest.fixture
def statistics() -> None:
    year = timezone.localdate().year
    store_records(random_records(9, size=250, year=year))


@pytest.fixture
def membership(chef: User) -> Membership:
    found = chef_membership(chef)
    assert found is not None
    return found


@pytest.fixture
def period() -> Period:
    return Period(timezone.localdate().year)


def released(chef: User, membership: Membership, period: Period) -> NulagesbildRelease:
    draft = do_generate_draft(period, acting_user=chef, membership=membership)
    return do_release_draft(draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership)


def test_only_a_chef_has_a_membership_to_act_in(chef: User, handlaggare: User, granskare: User) -> None:
    assert chef_membership(chef) is not None
    assert chef_membership(handlaggare) is None
    assert chef_membership(granskare) is None


def test_a_generated_draft_holds_the_content_and_its_hash_and_is_audited(
    statistics: None, chef: User, membership: Membership, period: Period
) -> None:
    draft = do_generate_draft(period, acting_user=chef, membership=membership)
    assert draft.sha256 == hashlib.sha256(draft.content.encode("utf-8")).hexdigest()
    assert draft.published()["period"]["year"] == period.year
    event = AuditEvent.objects.get(action="nulagesbild.generate")
    assert event.actor == chef and event.agency_code == membership.agency.code and event.role == "chef"
    assert event.object_reference == str(draft.pk)
    assert event.details["period"] == period.slug and event.details["sha256"] == draft.sha256
    # Counts of cells only: no statistic, nothing about a case.
    assert set(event.details) == {
        "period",
        "sha256",
        "cells_total",
        "cells_shown",
        "cells_suppressed",
    }


def test_releasing_copies_the_reviewed_draft_unchanged_and_removes_the_draft(
    statistics: None, chef: User, membership: Membership, period: Period
) -> None:
    draft = do_generate_draft(period, acting_user=chef, membership=membership)
    release = do_release_draft(
        draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership
    )
    assert (release.content, release.sha256, release.draft_id) == (draft.content, draft.sha256, draft.pk)
    assert release.is_intact()
    assert not NulagesbildDraft.objects.exists()
    event = AuditEvent.objects.get(action="nulagesbild.release")
    assert event.object_reference == str(release.pk)
    assert event.details["sha256"] == release.sha256 and event.details["draft"] == str(draft.pk)


def test_a_draft_other_than_the_one_reviewed_is_not_released(
    chef: User, membership: Membership, period: Period
) -> None:
    draft = do_generate_draft(period, acting_user=chef, membership=membership)
    with pytest.raises(CaseActionError):
        do_release_draft(draft.pk, reviewed_sha256="0" * 64, acting_user=chef, membership=membership)
    NulagesbildDraft.objects.filter(pk=draft.pk).update(content=draft.content.replace('"2', '"3', 1))
    with pytest.raises(CaseActionError):
        do_release_draft(draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership)
    assert not NulagesbildRelease.objects.exists()


def test_a_release_can_never_be_changed_or_deleted(
    chef: User, membership: Membership, period: Period
) -> None:
    release = released(chef, membership, period)
    release.content = "{}"
    with pytest.raises(ReleaseImmutableError):
        release.save()
    with pytest.raises(ReleaseImmutableError):
        release.delete()
    stored = NulagesbildRelease.objects.get(pk=release.pk)
    assert stored.is_intact() and stored.content != "{}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_on_postgresql_the_database_itself_refuses_to_change_a_release(
    chef: User, membership: Membership, period: Period
) -> None:
    release = released(chef, membership, period)
    for statement in (
        "UPDATE coordination_nulagesbildrelease SET content = '{}'",
        "DELETE FROM coordination_nulagesbildrelease",
    ):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert NulagesbildRelease.objects.get(pk=release.pk).is_intact()


def test_a_download_is_made_again_from_the_stored_content_identically_and_audited(
    statistics: None, chef: User, membership: Membership, period: Period
) -> None:
    release = released(chef, membership, period)
    for fmt in ("pdf", "html", "csv"):
        first = do_download_release(release, fmt, acting_user=chef, membership=membership)
        second = do_download_release(release, fmt, acting_user=chef, membership=membership)
        assert first.data == second.data, fmt
        assert first.filename == f"nulagesbild-{period.slug}.{fmt}"
    events = AuditEvent.objects.filter(action="nulagesbild.download")
    assert events.count() == 6
    assert {event.details["format"] for event in events} == {"pdf", "html", "csv"}
    assert {event.details["sha256"] for event in events} == {release.sha256}
    # The stored hash still verifies the stored content.
    assert content_hash(NulagesbildRelease.objects.get(pk=release.pk).content) == release.sha256


def test_a_release_whose_content_no_longer_matches_its_hash_is_not_handed_out(
    chef: User, membership: Membership, period: Period
) -> None:
    release = released(chef, membership, period)
    release.content = release.content.replace('"format"', '"format" ', 1)
    with pytest.raises(CaseActionError):
        do_download_release(release, "csv", acting_user=chef, membership=membership)
    assert not AuditEvent.objects.filter(action="nulagesbild.download").exists()


@pytest.mark.parametrize("step", ["generate", "release", "download", "discard"])
def test_when_the_audit_entry_cannot_be_written_nothing_happens(
    step: str, chef: User, membership: Membership, period: Period, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = do_generate_draft(period, acting_user=chef, membership=membership)
    release = None
    if step == "download":
        release = do_release_draft(
            draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership
        )

    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.nulagesbild.release.record_event", broken)
    drafts, releases = NulagesbildDraft.objects.count(), NulagesbildRelease.objects.count()
    with pytest.raises(AuditWriteError):
        if step == "generate":
            do_generate_draft(period, acting_user=chef, membership=membership)
        elif step == "release":
            do_release_draft(draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership)
        elif step == "discard":
            do_discard_draft(draft.pk, acting_user=chef, membership=membership)
        else:
            assert release is not None
            do_download_release(release, "pdf", acting_user=chef, membership=membership)
    assert (NulagesbildDraft.objects.count(), NulagesbildRelease.objects.count()) == (drafts, releases)


def test_discarding_a_draft_removes_it_and_is_audited(
    chef: User, membership: Membership, period: Period
) -> None:
    draft = do_generate_draft(period, acting_user=chef, membership=membership)
    do_discard_draft(draft.pk, acting_user=chef, membership=membership)
    assert not NulagesbildDraft.objects.exists()
    assert AuditEvent.objects.get(action="nulagesbild.discard").object_reference == str(draft.pk)
    with pytest.raises(CaseActionError):
        do_discard_draft(draft.pk, acting_user=chef, membership=membership)


def test_a_period_that_has_not_begun_cannot_be_generated(chef: User, membership: Membership) -> None:
    with pytest.raises(CaseActionError):
        # Release day is already in the next year (the_period_is_over): two years on has not begun.
        do_generate_draft(Period(timezone.localdate().year + 2), acting_user=chef, membership=membership)
    assert not NulagesbildDraft.objects.exists()


@pytest.mark.parametrize("half", [None, 1, 2])
def test_a_period_that_is_not_over_is_never_released(
    statistics: None, chef: User, membership: Membership, monkeypatch: pytest.MonkeyPatch, half: int | None
) -> None:
    period = Period(timezone.localdate().year, half)
    last_day = period.ends_before - datetime.timedelta(days=1)
    monkeypatch.setattr(release_module, "_today", lambda: last_day)
    draft = do_generate_draft(period, acting_user=chef, membership=membership)
    with pytest.raises(CaseActionError, match="Perioden är inte slut än"):
        do_release_draft(draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership)
    assert not NulagesbildRelease.objects.exists()
    assert not AuditEvent.objects.filter(action="nulagesbild.release").exists()
    monkeypatch.setattr(release_module, "_today", lambda: period.ends_before)
    do_release_draft(draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership)
    assert NulagesbildRelease.objects.count() == 1


def test_a_period_disclosure_control_cannot_protect_gives_no_draft_and_no_audit_entry(
    chef: User, membership: Membership, period: Period, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unprotected(*args: object, **kwargs: object) -> None:
        raise UnprotectedReleaseError("3 suppressed cells could not be protected; nothing is published.")

    monkeypatch.setattr("coordination.nulagesbild.release.build_content", unprotected)
    with pytest.raises(CaseActionError, match="röjandekontrollen kunde inte skydda"):
        do_generate_draft(period, acting_user=chef, membership=membership)
    assert not NulagesbildDraft.objects.exists()
    assert not AuditEvent.objects.filter(action="nulagesbild.generate").exists()


def test_an_export_is_the_release_for_the_same_data_and_is_audited_as_the_system(
    statistics: None, chef: User, membership: Membership, period: Period
) -> None:
    release = released(chef, membership, period)
    for fmt in ("pdf", "csv", "html"):
        exported = do_export(period, fmt)
        assert (
            exported.data == do_download_release(release, fmt, acting_user=chef, membership=membership).data
        )
    event = AuditEvent.objects.filter(action="nulagesbild.export").first()
    assert event is not None and event.actor is None and event.actor_username == ""
    assert event.details["sha256"] == release.sha256
    assert json.loads(release.content)["period"]["label"] == period.label


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and grants exist on PostgreSQL")
def test_the_application_role_may_add_releases_but_not_change_delete_or_truncate_them() -> None:
    from tests.access.test_audit_postgres import APP_ROLE, _apply_grants

    _apply_grants()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, %s, 'SELECT'), "
            "has_table_privilege(%s, %s, 'UPDATE'), has_table_privilege(%s, %s, 'DELETE'), "
            "has_table_privilege(%s, %s, 'TRUNCATE')",
            [APP_ROLE, "coordination_nulagesbildrelease"] * 5,
        )
        assert cursor.fetchone() == (True, True, False, False, False)
        # Drafts are the chef's working copies: they are discarded and deleted on release.
        cursor.execute(
            "SELECT has_table_privilege(%s, 'coordination_nulagesbilddraft', 'DELETE')", [APP_ROLE]
        )
        assert cursor.fetchone() == (True,)
