"""Model changes through django-auditlog: tracked, masked with a constant, never holding a sealed value or
a person's data, with the client address taken the trusted way, and each entry tied into the chain."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test import override_settings
from django.urls import reverse

from access.auditing import MASK, changes_digest
from access.models import AuditEvent, Membership, User
from cases.actions import do_change_status, do_update_person
from cases.models import Case
from cases.reading import read_case
from coordination.audit_tracking import tracked_models
from tests.factories import open_case

pytestmark = pytest.mark.django_db

NAME = "Markörnamn Zqx-Östberg"
NUMBER = "198112189876"
# Every spelling of the number that must not appear.
SPELLINGS = (NAME, NUMBER, "19811218-9876", "811218-9876", "8112189876")


def log_entries_for(instance: object) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(instance).order_by("id"))


def chained(entry: LogEntry) -> AuditEvent:
    return AuditEvent.objects.get(action__startswith="model.", details__log_entry=entry.pk)


def test_a_change_is_logged_and_chained_with_a_digest(handlaggare_membership: Membership) -> None:
    case = open_case(handlaggare_membership)
    do_change_status(
        case,
        acting_user=handlaggare_membership.user,
        membership=handlaggare_membership,
        new_status="avslutat",
    )
    update = log_entries_for(case)[-1]
    assert update.action == LogEntry.Action.UPDATE
    assert update.changes["status"] == ["oppet", "avslutat"]
    event = chained(update)
    assert event.action == "model.update"
    assert event.object_type == "cases.case"
    assert event.details["object_pk"] == str(case.pk)
    assert "status" in event.details["fields"]
    assert event.details["sha256"] == changes_digest(update)


def test_sealed_fields_are_never_logged_and_masked_fields_show_only_a_constant(
    handlaggare_membership: Membership,
) -> None:
    case = open_case(handlaggare_membership, name=NAME, identity_number=NUMBER)
    detail = read_case(
        case, user=handlaggare_membership.user, membership=handlaggare_membership, request=None
    )
    person = detail.person
    person.identity_number = "19121212-1212"
    person.name = NAME + " Andra"
    do_update_person(
        case, acting_user=handlaggare_membership.user, membership=handlaggare_membership, person=person
    )
    entries = log_entries_for(case.person)
    assert [entry.action for entry in entries][:1] == [LogEntry.Action.CREATE]
    for entry in entries:
        assert not [field for field in entry.changes if field.endswith("_sealed")], entry.changes
    update = entries[-1]
    assert update.changes["identity_index"] == [MASK, MASK]


def test_a_password_change_shows_only_the_mask(handlaggare: User) -> None:
    handlaggare.set_password("ett-helt-nytt-losenord-2026")
    handlaggare.save()
    entry = log_entries_for(handlaggare)[-1]
    assert entry.changes["password"] == [MASK, MASK]


def test_no_log_entry_holds_a_persons_data(handlaggare_membership: Membership) -> None:
    case = open_case(handlaggare_membership, name=NAME, identity_number=NUMBER, contact="070-1234567")
    do_change_status(
        case,
        acting_user=handlaggare_membership.user,
        membership=handlaggare_membership,
        new_status="bevakning",
    )
    assert LogEntry.objects.count() > 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM auditlog_logentry")
        dumped = repr(cursor.fetchall())
    assert [spelling for spelling in (*SPELLINGS, "070-1234567") if spelling in dumped] == []


def test_str_of_every_tracked_model_holds_no_personal_data(handlaggare_membership: Membership) -> None:
    """auditlog stores str(instance) as object_repr; it must be an id or a reference, never a name."""
    open_case(handlaggare_membership, name=NAME, identity_number=NUMBER)
    for tracked in tracked_models():
        model = apps.get_model(tracked["model"])
        for instance in model._default_manager.all()[:20]:
            text = str(instance)
            assert not [spelling for spelling in SPELLINGS if spelling in text], (tracked["model"], text)


def test_the_tracked_models_leave_out_key_and_statistics_tables() -> None:
    tracked = {item["model"] for item in tracked_models()}
    assert "cases.casekey" not in tracked
    assert "cases.statisticsblock" not in tracked
    # Every sealed column of a tracked model is left out of tracking.
    for item in tracked_models():
        model = apps.get_model(item["model"])
        sealed = {field.name for field in model._meta.fields if field.name.endswith("_sealed")}
        assert sealed <= set(item["exclude_fields"]), item["model"]


# Models whose changes django-auditlog does not log, each on purpose. Adding one is a decision.
LEFT_OUT = {
    "access.auditevent": "the trail itself (append-only, hash-chained)",
    "access.auditcheckpoint": "signed summaries of the trail",
    "access.auditverification": "the record of verification runs",
    "access.enrolmentlink": "token hashes; each link's making and use has its own admin.* / auth.* event",
    "access.accountchange": "two-person account changes; each step has its own admin.* event",
    "cases.casekey": "wrapped data keys, in the key store",
    "cases.statisticsblock": "sealed counts per half-year; a change logged as its case's would link them",
    "coordination.notification": "who has something waiting; holds no content",
    "coordination.nulagesbilddraft": "aggregate counts; each step has its own nulagesbild.* event",
    "coordination.nulagesbildrelease": "aggregate counts; each step has its own nulagesbild.* event",
}
# Plaintext columns of tracked models that could hold typed text and so land in LogEntry.changes as it
# was typed. Everything else tracked is a choice, a date, a number, a key or left out (sealed).
# Staff names and e-mail addresses are the employer's data about its staff, not about the people
# the cases concern; a case reference identifies no one.
TYPED_PLAINTEXT_ALLOWED = {
    "access.agency": {"code", "name"},
    "access.user": {"username", "first_name", "last_name", "email"},
    "cases.case": {"reference"},
    # Lists of category codes and agency codes, validated against the choices by the actions.
    "cases.disclosure": {"categories", "never_disclose_to"},
    # The audit event's action and reason code, copied from the event (which holds them already).
    "cases.exportnote": {"action", "reason"},
}


def test_every_model_is_tracked_or_left_out_on_purpose() -> None:
    tracked = {item["model"] for item in tracked_models()}
    for app in ("access", "cases", "coordination"):
        for model in apps.get_app_config(app).get_models():
            label = model._meta.label_lower
            assert (label in tracked) != (label in LEFT_OUT), f"{label}: track it or say why it is left out"


def test_no_tracked_column_logs_typed_text_unless_allowed() -> None:
    """A plaintext text column without choices on a tracked model would put what a user typed into
    LogEntry.changes, which outlives the case (gallring keeps the audit) and which no key protects."""
    offenders = []
    for item in tracked_models():
        model = apps.get_model(item["model"])
        skipped = set(item["exclude_fields"]) | set(item["mask_fields"])
        allowed = TYPED_PLAINTEXT_ALLOWED.get(item["model"], set())
        for field in model._meta.concrete_fields:
            typed = isinstance(field, models.CharField | models.TextField | models.JSONField)
            if typed and not field.choices and field.name not in skipped | allowed:
                offenders.append(f"{item['model']}.{field.name}")
    assert offenders == []


@pytest.mark.parametrize(("behind_proxy", "expected"), [(False, "10.1.2.3"), (True, "192.0.2.9")])
def test_the_client_address_is_taken_only_as_the_trusted_setting_allows(
    case: Case, handlaggare: User, login_client, behind_proxy: bool, expected: str
) -> None:
    with override_settings(BEHIND_PROXY=behind_proxy):
        login_client(handlaggare).post(
            reverse("cases:status", args=[case.reference]),
            {"status": "avslutat"},
            REMOTE_ADDR="10.1.2.3",
            HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.9",
        )
    entry = log_entries_for(case)[-1]
    assert entry.changes["status"][1] == "avslutat"
    assert entry.remote_addr == expected
    assert entry.actor == handlaggare
    event = chained(entry)
    assert event.client_address == expected
    assert event.request_id, "the chained event carries the request id"
    assert event.actor == handlaggare


def _closed_and_verified(membership: Membership) -> Case:
    """A case with a status change logged by django-auditlog, and a trail verified up to it."""
    case = open_case(membership)
    do_change_status(case, acting_user=membership.user, membership=membership, new_status="avslutat")
    call_command("verify_audit", "--full", stdout=io.StringIO())
    return case


def test_an_edited_or_removed_log_entry_is_found_by_verify_audit(handlaggare_membership: Membership) -> None:
    from tests.access.test_audit_chain import tampering

    case = _closed_and_verified(handlaggare_membership)
    update = log_entries_for(case)[-1]
    event = chained(update)
    with tampering():
        LogEntry.objects.filter(pk=update.pk).update(changes={"status": ["oppet", "bevakning"]})
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit", "--full", stdout=io.StringIO())
    assert f"the model change log entry {update.pk} recorded by event {event.pk} was changed" in str(
        raised.value
    )
    with tampering():
        LogEntry.objects.filter(pk=update.pk).delete()
    with pytest.raises(CommandError, match=f"log entry {update.pk} recorded by event {event.pk} is missing"):
        call_command("verify_audit", "--full", stdout=io.StringIO())


def _changed(field: Any, value: Any, someone: int) -> Any:
    """Another value for one column of a LogEntry, of the column's own type."""
    if field.attname == "timestamp":
        return value - datetime.timedelta(hours=1)
    if field.attname == "actor_id":
        return someone if value != someone else None
    if field.attname == "action":
        return (value + 1) % 3
    if field.attname in ("object_id", "remote_port"):
        return (value or 0) + 1
    if field.attname == "remote_addr":
        return "192.0.2.99"
    if field.attname in ("changes", "serialized_data", "additional_data"):
        return {"inserted": ["x", "y"]}
    return f"{value or ''}-ändrad"


CHANGEABLE_COLUMNS = [
    field.attname
    for field in LogEntry._meta.concrete_fields
    if field.attname not in ("id", "content_type_id")  # an id: edited, the entry is another one
]


@pytest.mark.parametrize("column", CHANGEABLE_COLUMNS)
def test_an_edit_to_any_column_of_a_log_entry_is_found(
    column: str, handlaggare_membership: Membership
) -> None:
    """Every stored column is in the digest (format 2); format 1 covered five of them, and an edit to
    the timestamp, the repr, the client address, changes_text, cid or additional_data went unseen."""
    from tests.access.test_audit_chain import tampering

    case = _closed_and_verified(handlaggare_membership)
    entry = log_entries_for(case)[-1]
    event = chained(entry)
    assert event.details["digest"] == 2
    field = LogEntry._meta.get_field(column.removesuffix("_id") if column == "actor_id" else column)
    new_value = _changed(field, field.value_from_object(entry), handlaggare_membership.user.pk)
    assert new_value != field.value_from_object(entry)
    with tampering():
        LogEntry.objects.filter(pk=entry.pk).update(**{column: new_value})
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit", "--full", stdout=io.StringIO())
    assert f"the model change log entry {entry.pk} recorded by event {event.pk} was changed" in str(
        raised.value
    )


def test_an_entry_chained_with_the_first_digest_format_still_verifies(
    handlaggare_membership: Membership,
) -> None:
    from access.auditing import changes_digest

    case = open_case(handlaggare_membership)
    entry = log_entries_for(case)[-1]
    assert changes_digest(entry, 1) != changes_digest(entry, 2)
    assert changes_digest(entry, 2) == changes_digest(LogEntry.objects.get(pk=entry.pk), 2), (
        "the digest of the entry as written must be the digest of the entry as read back"
    )
