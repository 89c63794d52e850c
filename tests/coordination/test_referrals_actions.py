"""The referral actions: sending (with a disclosure in force or one recorded in the same step), every
transition allowed and every one refused, the contribution on accept, audit events and notifications."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from access.models import AuditEvent
from cases.actions import CaseActionError, do_save_contribution
from cases.choices import InformationCategory, LegalBasis
from cases.models import ContributionVersion, Disclosure
from cases.permissions import case_access
from cases.vault import CaseVault
from coordination.models import REFERRAL_TRANSITIONS, Notification, NotificationKind, Referral, ReferralStatus
from coordination.referrals import (
    ACCEPTED_CONTRIBUTION,
    DisclosureTerms,
    do_accept_referral,
    do_complete_referral,
    do_reject_referral,
    do_revoke_referral,
    do_send_referral,
    referral_access,
)
from tests.coordination.referral_world import (
    ALL_STATUSES,
    PERSONAS,
    RECEIVERS,
    REJECTION_TEXT,
    REQUEST_TEXT,
    SENDERS,
    TARGETS,
    World,
    build_world,
    put_in_status,
)
from tests.factories import MembershipFactory
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db


_shared_world_once, world = shared_world(build_world)


def referral_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="referral.").order_by("id"))


def move(referral: Referral, target: str, user: object) -> Referral:
    if target == ReferralStatus.ACCEPTED:
        return do_accept_referral(referral, acting_user=user)
    if target == ReferralStatus.REJECTED:
        return do_reject_referral(referral, acting_user=user, reason=REJECTION_TEXT)
    if target == ReferralStatus.REVOKED:
        return do_revoke_referral(referral, acting_user=user)
    return do_complete_referral(referral, acting_user=user)


def snapshot(referral: Referral) -> tuple[object, ...]:
    row = Referral.objects.get(pk=referral.pk)
    return (
        row.status,
        bytes(row.request_sealed),
        bytes(row.rejection_reason_sealed),
        row.answered_by_id,
        row.answered_at,
        row.closed_by_id,
        row.closed_at,
    )


# --- Sending --------------------------------------------------------------------------------------------


def test_sending_seals_the_request_and_uses_the_disclosure_in_force(world: World) -> None:
    referral = world.send()
    assert referral.status == ReferralStatus.SENT
    assert referral.disclosure == world.disclosure
    assert referral.from_agency == world.owner
    assert referral.to_agency == world.receiver
    assert REQUEST_TEXT.encode() not in bytes(referral.request_sealed)
    assert CaseVault.for_case(world.case).open(referral, "request") == REQUEST_TEXT


@pytest.mark.parametrize("sender", SENDERS)
def test_handlaggare_and_samordnare_of_the_owning_agency_may_send(world: World, sender: str) -> None:
    referral = world.send(by=sender)
    assert referral.sent_by == world.user(sender)


def test_sending_is_audited_with_ids_and_codes_only(world: World) -> None:
    referral = world.send()
    [event] = referral_events()
    assert event.action == "referral.send"
    assert event.actor == world.user("owner_handlaggare")
    assert event.object_reference == world.case.reference
    assert event.object_agency == "soc-vuxen"
    assert event.details == {
        "referral": str(referral.pk),
        "from_agency": "soc-vuxen",
        "to_agency": "polisen",
        "disclosure": str(world.disclosure.pk),
    }
    assert REQUEST_TEXT not in str(event.details) and REQUEST_TEXT not in event.reason


def test_sending_notifies_the_receiving_agencys_caseworkers_only(world: World) -> None:
    referral = world.send()
    notified = {n.user.username for n in Notification.objects.filter(referral=referral)}
    assert notified == {"polis-handlaggare", "polis-samordnare"}
    assert set(Notification.objects.values_list("kind", flat=True)) == {NotificationKind.REFERRAL_RECEIVED}


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in SENDERS])
def test_nobody_else_may_send(world: World, persona: str) -> None:
    user = world.user(persona)
    membership = world.memberships.get(persona) or MembershipFactory.build(user=user, agency=world.owner)
    with pytest.raises(CaseActionError, match="ägande myndighetens"):
        do_send_referral(
            world.case, acting_user=user, membership=membership, recipient=world.receiver, request_text="x"
        )
    assert not Referral.objects.exists()
    assert referral_events() == []


def test_a_membership_the_user_does_not_hold_counts_for_nothing(world: World) -> None:
    """A caseworker of another agency presenting a membership of the owning agency they do not hold."""
    claimed = MembershipFactory.build(user=world.user("third_handlaggare"), agency=world.owner)
    with pytest.raises(CaseActionError, match="ägande myndighetens"):
        do_send_referral(
            world.case,
            acting_user=world.user("third_handlaggare"),
            membership=claimed,
            recipient=world.receiver,
            request_text=REQUEST_TEXT,
        )
    assert not Referral.objects.exists()


def test_a_sender_cannot_act_through_someone_elses_membership(world: World) -> None:
    with pytest.raises(CaseActionError):
        do_send_referral(
            world.case,
            acting_user=world.user("receiver_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            recipient=world.third,
            request_text="x",
        )
    assert not Referral.objects.exists()


def test_the_owning_agency_cannot_send_to_itself(world: World) -> None:
    with pytest.raises(CaseActionError, match="annan myndighet"):
        do_send_referral(
            world.case,
            acting_user=world.user("owner_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            recipient=world.owner,
            request_text=REQUEST_TEXT,
        )
    assert not Referral.objects.exists()


def test_an_empty_request_is_refused(world: World) -> None:
    with pytest.raises(CaseActionError, match="Skriv vad ni ber"):
        world.send(text="   \n ")
    assert not Referral.objects.exists()


def test_an_inactive_recipient_is_refused(world: World) -> None:
    world.receiver.is_active = False
    world.receiver.save()
    with pytest.raises(CaseActionError, match="inte en aktiv myndighet"):
        world.send()
    assert not Referral.objects.exists()


def test_a_second_open_referral_to_the_same_agency_is_refused(world: World) -> None:
    world.send()
    with pytest.raises(CaseActionError, match="redan en öppen förfrågan"):
        world.send(by="owner_samordnare")
    assert Referral.objects.count() == 1


def test_a_new_referral_may_follow_a_closed_one(world: World) -> None:
    first = world.send()
    do_revoke_referral(first, acting_user=world.user("owner_handlaggare"))
    second = world.send()
    assert second.pk != first.pk


def test_sending_without_a_disclosure_in_force_is_refused(world: World) -> None:
    with pytest.raises(CaseActionError, match="inte utlämnat till Kvinnojouren"):
        do_send_referral(
            world.case,
            acting_user=world.user("owner_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            recipient=world.third,
            request_text=REQUEST_TEXT,
        )
    assert not Referral.objects.exists()


def test_an_expired_disclosure_does_not_count(world: World) -> None:
    Disclosure.objects.filter(pk=world.disclosure.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    with pytest.raises(CaseActionError, match="inte utlämnat till Polisen"):
        world.send()
    assert not Referral.objects.exists()


TERMS = DisclosureTerms(
    legal_basis=LegalBasis.CONSENT,
    categories=[InformationCategory.SUMMARY],
    justification="Personen vill att jouren stöttar henne.",
    valid_until=datetime.date(2999, 12, 31),
)


def test_a_disclosure_can_be_recorded_in_the_same_step(world: World) -> None:
    referral = do_send_referral(
        world.case,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        recipient=world.third,
        request_text=REQUEST_TEXT,
        disclosure_terms=TERMS,
    )
    disclosure = Disclosure.objects.get(case=world.case, recipient=world.third)
    assert referral.disclosure == disclosure
    assert disclosure.legal_basis == LegalBasis.CONSENT
    assert disclosure.categories == [InformationCategory.SUMMARY]
    assert disclosure.valid_until == datetime.date(2999, 12, 31)
    assert CaseVault.for_case(world.case).open(disclosure, "justification") == TERMS.justification
    actions = list(
        AuditEvent.objects.filter(object_reference=world.case.reference)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["case.disclose", "referral.send"]
    # The third agency's caseworkers now see the case and the referral.
    assert referral_access(world.user("third_handlaggare"), referral) is not None


def test_a_refused_disclosure_saves_no_referral(world: World) -> None:
    terms = DisclosureTerms(
        legal_basis=LegalBasis.CONSENT,
        categories=[InformationCategory.SUMMARY],
        justification="Personen vill det.",
        valid_until=None,  # a consent needs an end date: do_disclose_case refuses
    )
    with pytest.raises(CaseActionError, match="slutdatum"):
        do_send_referral(
            world.case,
            acting_user=world.user("owner_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            recipient=world.third,
            request_text=REQUEST_TEXT,
            disclosure_terms=terms,
        )
    assert not Referral.objects.exists()
    assert not Disclosure.objects.filter(recipient=world.third).exists()


def test_a_refused_referral_saves_no_disclosure(world: World) -> None:
    with pytest.raises(CaseActionError, match="Skriv vad ni ber"):
        do_send_referral(
            world.case,
            acting_user=world.user("owner_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            recipient=world.third,
            request_text="",
            disclosure_terms=TERMS,
        )
    assert not Disclosure.objects.filter(recipient=world.third).exists()
    assert not AuditEvent.objects.filter(action="case.disclose", details__recipient="kvinnojouren").exists()


def test_a_failure_after_the_disclosure_rolls_both_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The referral's own audit event fails after the disclosure was written: neither survives."""
    from access.audit import AuditWriteError
    from coordination import referrals

    real = referrals.record_event

    def failing(action: str, **kwargs: object) -> AuditEvent:
        if action == "referral.send":
            raise AuditWriteError("audit down")
        return real(action, **kwargs)

    monkeypatch.setattr(referrals, "record_event", failing)
    with pytest.raises(AuditWriteError):
        do_send_referral(
            world.case,
            acting_user=world.user("owner_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            recipient=world.third,
            request_text=REQUEST_TEXT,
            disclosure_terms=TERMS,
        )
    assert not Referral.objects.exists()
    assert not Disclosure.objects.filter(recipient=world.third).exists()
    assert not Notification.objects.exists()


# --- The state machine: every transition, allowed and refused ---------------------------------------------


def _expected(status: str, target: str, persona: str) -> bool:
    side = REFERRAL_TRANSITIONS[status].get(target)
    return (side == "sender" and persona in SENDERS) or (side == "receiver" and persona in RECEIVERS)


MATRIX = [(status, target, persona) for status in ALL_STATUSES for target in TARGETS for persona in PERSONAS]


@pytest.mark.parametrize(
    ("status", "target", "persona"), MATRIX, ids=[f"{s.value}->{t.value}-{p}" for s, t, p in MATRIX]
)
def test_every_transition_by_every_persona(world: World, status: str, target: str, persona: str) -> None:
    referral = put_in_status(world.send(), status)
    before = snapshot(referral)
    events_before = len(referral_events())
    notifications_before = Notification.objects.count()
    user = world.user(persona)
    if _expected(status, target, persona):
        moved = move(referral, target, user)
        assert moved.status == target
        assert Referral.objects.get(pk=referral.pk).status == target
        assert (
            referral_events()[-1].action
            == {
                ReferralStatus.ACCEPTED: "referral.accept",
                ReferralStatus.REJECTED: "referral.reject",
                ReferralStatus.REVOKED: "referral.revoke",
                ReferralStatus.DONE: "referral.done",
            }[target]
        )
    else:
        with pytest.raises(CaseActionError) as refused:
            move(referral, target, user)
        assert str(refused.value)  # a message for the user
        assert snapshot(referral) == before
        assert len(referral_events()) == events_before
        assert Notification.objects.count() == notifications_before


def test_the_matrix_allows_exactly_the_table(world: World) -> None:
    allowed = {(s, t) for s, t, p in MATRIX if _expected(s, t, p)}
    assert allowed == {(s, t) for s, moves in REFERRAL_TRANSITIONS.items() for t in moves}


@pytest.mark.parametrize("target", TARGETS)
def test_refusals_say_why_in_swedish(world: World, target: str) -> None:
    referral = put_in_status(world.send(), ReferralStatus.DONE)
    side = "receiver_handlaggare" if target != ReferralStatus.REVOKED else "owner_handlaggare"
    with pytest.raises(CaseActionError, match="har status Klar och kan inte"):
        move(referral, target, world.user(side))
    wrong_side = "owner_handlaggare" if target != ReferralStatus.REVOKED else "receiver_handlaggare"
    with pytest.raises(CaseActionError, match="Bara den"):
        move(put_in_status(referral, ReferralStatus.SENT), target, world.user(wrong_side))


@pytest.mark.parametrize("target", TARGETS)
def test_a_stale_copy_cannot_move_a_referral_twice(world: World, target: str) -> None:
    """Two people answer at once: the second works on an out-of-date copy and is refused."""
    referral = world.send()
    if target == ReferralStatus.DONE:
        referral = do_accept_referral(referral, acting_user=world.user("receiver_handlaggare"))
    stale = Referral.objects.get(pk=referral.pk)
    second = "receiver_samordnare" if target != ReferralStatus.REVOKED else "owner_samordnare"
    first = "receiver_handlaggare" if target != ReferralStatus.REVOKED else "owner_handlaggare"
    move(referral, target, world.user(first))
    with pytest.raises(CaseActionError, match="kan inte"):
        move(stale, target, world.user(second))


def test_timestamps_and_people_of_each_step(world: World) -> None:
    referral = world.send()
    accepted = do_accept_referral(referral, acting_user=world.user("receiver_samordnare"))
    assert accepted.answered_by == world.user("receiver_samordnare")
    assert accepted.answered_at is not None
    assert accepted.closed_at is None
    done = do_complete_referral(accepted, acting_user=world.user("receiver_handlaggare"))
    assert done.closed_by == world.user("receiver_handlaggare")
    assert done.closed_at is not None
    assert done.answered_by == world.user("receiver_samordnare")


def test_a_rejection_needs_a_reason_and_seals_it(world: World) -> None:
    referral = world.send()
    with pytest.raises(CaseActionError, match="Skriv varför"):
        do_reject_referral(referral, acting_user=world.user("receiver_handlaggare"), reason="  ")
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT
    rejected = do_reject_referral(
        referral, acting_user=world.user("receiver_handlaggare"), reason=REJECTION_TEXT
    )
    assert REJECTION_TEXT.encode() not in bytes(rejected.rejection_reason_sealed)
    assert CaseVault.for_case(world.case).open(rejected, "rejection_reason") == REJECTION_TEXT
    [*_, event] = referral_events()
    assert event.action == "referral.reject"
    assert REJECTION_TEXT not in str(event.details)
    assert set(event.details) == {"referral", "from_agency", "to_agency"}


def test_a_user_in_both_agencies_acts_on_the_side_the_transition_needs(world: World) -> None:
    both = world.user("owner_samordnare")
    MembershipFactory.create(user=both, agency=world.receiver, role="handlaggare")
    referral = world.send(by="owner_handlaggare")
    accepted = do_accept_referral(referral, acting_user=both)
    event = referral_events()[-1]
    assert event.agency_code == "polisen"
    do_revoke_referral(accepted, acting_user=both)
    assert referral_events()[-1].agency_code == "soc-vuxen"


# --- Accepting adds the receiving agency's contribution ---------------------------------------------------


def test_accepting_adds_the_receiving_agencys_first_contribution(world: World) -> None:
    referral = world.send()
    do_accept_referral(referral, acting_user=world.user("receiver_handlaggare"))
    version = ContributionVersion.objects.get(case=world.case, agency=world.receiver)
    assert version.number == 1
    assert version.author == world.user("receiver_handlaggare")
    assert CaseVault.for_case(world.case).open(version, "text") == ACCEPTED_CONTRIBUTION
    saved = AuditEvent.objects.filter(action="case.contribution.save").last()
    assert saved is not None and saved.agency_code == "polisen"


def test_the_receiving_agency_then_writes_its_own_contribution(world: World) -> None:
    referral = world.send()
    do_accept_referral(referral, acting_user=world.user("receiver_handlaggare"))
    access = case_access(world.user("receiver_samordnare"), world.case)
    assert access is not None and access.can_contribute
    version = do_save_contribution(
        world.case,
        acting_user=world.user("receiver_samordnare"),
        membership=access.membership,
        text="Polisen har gjort en hotbedömning.",
        based_on=1,
    )
    assert version.number == 2


def test_accepting_keeps_an_existing_contribution(world: World) -> None:
    receiver = world.membership("receiver_handlaggare")
    do_save_contribution(
        world.case, acting_user=receiver.user, membership=receiver, text="Vårt bidrag.", based_on=0
    )
    do_accept_referral(world.send(), acting_user=receiver.user)
    versions = ContributionVersion.objects.filter(case=world.case, agency=world.receiver)
    assert versions.count() == 1
    assert CaseVault.for_case(world.case).open(versions.get(), "text") == "Vårt bidrag."


# --- Notifications of the answers --------------------------------------------------------------------------


@pytest.mark.parametrize("target", [ReferralStatus.ACCEPTED, ReferralStatus.REJECTED, ReferralStatus.DONE])
def test_answers_notify_the_sender(world: World, target: str) -> None:
    referral = world.send()
    if target == ReferralStatus.DONE:
        do_accept_referral(referral, acting_user=world.user("receiver_handlaggare"))
    Notification.objects.all().delete()
    move(referral, target, world.user("receiver_handlaggare"))
    [notification] = Notification.objects.all()
    assert notification.user == world.user("owner_handlaggare")
    assert notification.kind == NotificationKind.REFERRAL_ANSWERED
    assert notification.referral_id == referral.pk


def test_an_answer_reaches_the_sending_agency_when_the_sender_has_left_it(world: World) -> None:
    referral = world.send()
    world.membership("owner_handlaggare").delete()
    Notification.objects.all().delete()
    do_accept_referral(referral, acting_user=world.user("receiver_handlaggare"))
    assert {n.user.username for n in Notification.objects.all()} == {"agare-samordnare"}


def test_revoking_notifies_the_receiving_agency_but_not_the_revoker(world: World) -> None:
    referral = world.send()
    Notification.objects.all().delete()
    do_revoke_referral(referral, acting_user=world.user("owner_samordnare"))
    notified = {(n.user.username, n.kind) for n in Notification.objects.all()}
    assert notified == {
        ("polis-handlaggare", NotificationKind.REFERRAL_REVOKED),
        ("polis-samordnare", NotificationKind.REFERRAL_REVOKED),
    }


def test_the_acting_user_is_never_notified_of_their_own_act(world: World) -> None:
    both = world.user("owner_samordnare")
    MembershipFactory.create(user=both, agency=world.receiver, role="handlaggare")
    referral = world.send(by="owner_samordnare")
    assert not Notification.objects.filter(user=both).exists()
    do_accept_referral(referral, acting_user=both)
    assert not Notification.objects.filter(user=both).exists()


# --- A case's referrals, for the case's coordination page -------------------------------------------------


def test_a_cases_referrals_as_each_reader_may_see_them(world: World) -> None:
    from coordination.referrals import case_referrals

    def seen_by(persona: str) -> set[object]:
        access = case_access(world.user(persona), world.case)
        assert access is not None
        return {referral.pk for referral in case_referrals(access)}

    to_police = world.send()
    assert seen_by("emergency_reader") == set()  # the shelter reads through emergency access only
    to_shelter = do_send_referral(
        world.case,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        recipient=world.third,
        request_text=REQUEST_TEXT,
        disclosure_terms=TERMS,
    )
    assert seen_by("owner_samordnare") == {to_police.pk, to_shelter.pk}
    assert seen_by("receiver_handlaggare") == {to_police.pk}
    assert seen_by("third_handlaggare") == {to_shelter.pk}
