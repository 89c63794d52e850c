"""Crossing a secrecy domain: disclosures with a legal basis, and emergency access.

Each function is an action: one transaction, one audit entry naming the legal basis or reason kind
(never the justification text, which is sealed), and the guardian grants rebuilt from what is in force.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Case as DbCase
from django.db.models import QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from access.audit import record_event
from access.models import CASEWORK_ROLES, Agency, Membership, User
from cases.actions import CaseActionError
from cases.choices import CaseStatus, DisclosureEnd, InformationCategory, LegalBasis
from cases.crypto import blind_index
from cases.models import Case, Disclosure, EmergencyAccess, Person
from cases.permissions import sync_case_permissions
from cases.vault import CaseVault

# A justification that overrides the person's refusal must say why, at some length.
REFUSAL_JUSTIFICATION_MINIMUM = 40


def require_refusal_considered(overrides_refusal: bool, justification: str) -> None:
    """The person said never to this agency; the law (OSL) may still require or allow it, but only as
    a decision taken knowingly: the refusal confirmed as seen, and a justification that says why."""
    if not overrides_refusal:
        raise CaseActionError(
            _(
                "Personen har sagt nej till att uppgifter lämnas till den här myndigheten. Bekräfta att "
                "du har tagit ställning till nejet och motivera varför uppgifterna ändå lämnas."
            )
        )
    if len(justification.strip()) < REFUSAL_JUSTIFICATION_MINIMUM:
        raise CaseActionError(
            _("Motivera utförligt (minst %(minimum)d tecken) varför personens nej inte följs.")
            % {"minimum": REFUSAL_JUSTIFICATION_MINIMUM}
        )


def consent_refusals(case: Case) -> set[str]:
    """Agency codes the person has said must never receive anything: every consent ever recorded in the
    case counts, in force or ended. A refusal protects the person (an agency they fear, a relative who
    works there), so it is not forgotten when the consent that carried it is withdrawn or runs out, and
    a later consent cannot quietly drop it."""
    refused: set[str] = set()
    consents = case.disclosures.filter(legal_basis=LegalBasis.CONSENT)
    for codes in consents.values_list("never_disclose_to", flat=True):
        refused.update(codes)
    return refused


@transaction.atomic
def do_disclose_case(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    recipient: Agency,
    legal_basis: str,
    categories: Iterable[str],
    justification: str,
    valid_until: datetime.date | None = None,
    never_disclose_to: Iterable[str] = (),
    overrides_refusal: bool = False,
    request: HttpRequest | None = None,
) -> Disclosure:
    """Disclose ``case`` to ``recipient``. Only the owning agency discloses; consent needs an end
    date and respects the person's "never disclose to" list."""
    categories = sorted(set(categories))
    never = sorted(set(never_disclose_to))
    if (
        membership.user_id != acting_user.pk
        or membership.agency_id != case.agency_id
        or membership.role not in CASEWORK_ROLES
    ):
        raise CaseActionError(
            _("Bara den ägande myndighetens handläggare och samordnare kan lämna ut ärendet.")
        )
    if recipient.pk == case.agency_id:
        raise CaseActionError(_("Ärendet ägs redan av den myndigheten."))
    if not recipient.is_active:
        raise CaseActionError(_("Mottagaren är inte en aktiv myndighet."))
    if legal_basis not in LegalBasis.values:
        raise CaseActionError(_("Välj en rättslig grund."))
    if not categories or not set(categories) <= set(InformationCategory.values):
        raise CaseActionError(_("Välj vilka uppgifter som lämnas ut."))
    if not justification.strip():
        raise CaseActionError(_("Motivera utlämnandet."))
    today = timezone.localdate()
    if legal_basis == LegalBasis.CONSENT:
        if valid_until is None or valid_until < today:
            raise CaseActionError(_("Ett samtycke behöver ett slutdatum som inte har passerat."))
        if recipient.code in consent_refusals(case) | set(never):
            raise CaseActionError(_("Personen har sagt nej till att uppgifter lämnas till den myndigheten."))
    elif never:
        raise CaseActionError(
            _("En lista över myndigheter som aldrig får uppgifter hör bara till ett samtycke.")
        )
    refused = recipient.code in consent_refusals(case)
    if refused:
        require_refusal_considered(overrides_refusal, justification)
    if valid_until is not None and valid_until < today:
        raise CaseActionError(_("Slutdatumet har redan passerat."))
    disclosure = Disclosure(
        case=case,
        recipient=recipient,
        legal_basis=legal_basis,
        categories=categories,
        never_disclose_to=never,
        valid_until=valid_until,
        created_by=acting_user,
    )
    CaseVault.for_case(case).seal(disclosure, "justification", justification.strip())
    disclosure.save(force_insert=True)
    sync_case_permissions(case)
    record_event(
        "case.disclose",
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=legal_basis,
        details={
            "recipient": recipient.code,
            "categories": categories,
            "valid_until": valid_until.isoformat() if valid_until else None,
            "disclosure": str(disclosure.pk),
            # Flagged to the owning agency's granskare (access/compliance/anomalies.py).
            **({"overrides_refusal": True} if refused else {}),
        },
    )
    return disclosure


@transaction.atomic
def do_end_disclosure(
    disclosure: Disclosure,
    *,
    acting_user: User,
    membership: Membership,
    kind: str = DisclosureEnd.REVOKED,
    request: HttpRequest | None = None,
) -> None:
    """Revoke a disclosure, or record that the consent behind it was withdrawn: access ends at once."""
    if kind not in (DisclosureEnd.REVOKED, DisclosureEnd.CONSENT_WITHDRAWN):
        # "utgatt" is recorded only by expire_disclosures; anything else is no end at all.
        raise CaseActionError(_("Välj om utlämnandet återkallas eller om samtycket har återkallats."))
    # Locked, so two people ending the same disclosure at once cannot both record it.
    disclosure = (
        Disclosure.objects.select_for_update().select_related("case", "recipient").get(pk=disclosure.pk)
    )
    case = disclosure.case
    if (
        membership.user_id != acting_user.pk
        or membership.agency_id != case.agency_id
        or membership.role not in CASEWORK_ROLES
    ):
        raise CaseActionError(
            _("Bara den ägande myndighetens handläggare och samordnare kan återkalla ett utlämnande.")
        )
    if disclosure.ended_at is not None:
        raise CaseActionError(_("Utlämnandet är redan avslutat."))
    if kind == DisclosureEnd.CONSENT_WITHDRAWN and disclosure.legal_basis != LegalBasis.CONSENT:
        raise CaseActionError(_("Utlämnandet bygger inte på samtycke."))
    disclosure.ended_at = timezone.now()
    disclosure.ended_by = acting_user
    disclosure.end_kind = kind
    disclosure.save(update_fields=["ended_at", "ended_by", "end_kind"])
    sync_case_permissions(case)
    record_event(
        "case.disclosure.end",
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=kind,
        details={"recipient": disclosure.recipient.code, "disclosure": str(disclosure.pk)},
    )


def expire_disclosures(today: datetime.date | None = None) -> int:
    """Record disclosures that have run out (their access already ended at midnight: the policy checks
    the date) and drop their guardian grants. For a daily timer; returns how many it recorded."""
    day = today or timezone.localdate()
    expired = Disclosure.objects.filter(ended_at__isnull=True, valid_until__lt=day).select_related(
        "case", "recipient"
    )
    count = 0
    for disclosure in expired:
        with transaction.atomic():
            # Only if still open: a revocation or an overlapping run may have ended it meanwhile.
            ended = Disclosure.objects.filter(pk=disclosure.pk, ended_at__isnull=True).update(
                ended_at=timezone.now(), end_kind=DisclosureEnd.EXPIRED
            )
            if not ended:
                continue
            sync_case_permissions(disclosure.case)
            record_event(
                "case.disclosure.expired",
                actor=None,
                object_type="case",
                object_reference=disclosure.case.reference,
                object_agency=disclosure.case.agency.code,
                details={"recipient": disclosure.recipient.code, "disclosure": str(disclosure.pk)},
            )
        count += 1
    return count


def _closed_last() -> DbCase:
    return DbCase(When(case__status=CaseStatus.CLOSED, then=Value(1)), default=Value(0))


def find_for_emergency(
    *, reference: str = "", identity_number: str = "", among: QuerySet[Case] | None = None
) -> Case | None:
    """Exact reference or exact (normalised) identity number across every agency, or only ``among``
    those cases (for a number: ``Case.objects.findable_by_number(user)``); never a listing."""
    if reference:
        return (
            Case.objects.select_related("agency", "person")
            .filter(reference=reference.strip().upper())
            .first()
        )
    if identity_number:
        people = Person.objects.select_related("case", "case__agency")
        if among is not None:
            people = people.filter(case__in=among.values("pk"))
        person = (
            people.filter(identity_index=blind_index(identity_number))
            # An open case before a closed one, then the newest.
            .order_by(_closed_last(), "-case__opened_on")
            .first()
        )
        return person.case if person else None
    return None


@transaction.atomic
def do_request_emergency_access(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    reason: str,
    overrides_refusal: bool = False,
    request: HttpRequest | None = None,
) -> EmergencyAccess:
    """Open ``case`` read-only for a short time on a stated reason; lands in the granskare's queue. An
    agency the person refused gets it only when the refusal is knowingly overridden, and flagged."""
    if membership.role not in CASEWORK_ROLES or membership.user_id != acting_user.pk:
        raise CaseActionError(_("Bara handläggare och samordnare kan begära nödåtkomst."))
    if len(reason.strip()) < 10:
        raise CaseActionError(_("Beskriv skälet till nödåtkomsten (minst tio tecken)."))
    refused = membership.agency.code in consent_refusals(case)
    if refused:
        require_refusal_considered(overrides_refusal, reason)
    now = timezone.now()
    access = EmergencyAccess(
        case=case,
        user=acting_user,
        agency=membership.agency,
        started_at=now,
        expires_at=now + datetime.timedelta(minutes=settings.EMERGENCY_ACCESS_MINUTES),
    )
    CaseVault.for_case(case).seal(access, "reason", reason.strip())
    access.save(force_insert=True)
    record_event(
        "case.emergency_access",
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason="nodatkomst",
        details={
            "expires_at": access.expires_at.isoformat(),
            "access": str(access.pk),
            **({"overrides_refusal": True} if refused else {}),
        },
    )
    return access


@transaction.atomic
def do_review_emergency_access(
    access: EmergencyAccess,
    *,
    acting_user: User,
    membership: Membership,
    comment: str,
    request: HttpRequest | None = None,
) -> None:
    """A granskare marks an emergency access reviewed, with a comment."""
    from access.models import Role

    if membership.role != Role.GRANSKARE or membership.user_id != acting_user.pk:
        raise CaseActionError(_("Bara granskare kan granska nödåtkomster."))
    # Locked, so two reviews of the same access cannot both be recorded.
    access = EmergencyAccess.objects.select_for_update().select_related("case").get(pk=access.pk)
    if access.user_id == acting_user.pk:
        raise CaseActionError(_("Ingen kan granska sin egen nödåtkomst."))
    if access.reviewed_at is not None:
        raise CaseActionError(_("Nödåtkomsten är redan granskad."))
    if not comment.strip():
        raise CaseActionError(_("Skriv en kommentar till granskningen."))
    access.reviewed_at = timezone.now()
    access.reviewed_by = acting_user
    CaseVault.for_case(access.case).seal(access, "review_comment", comment.strip())
    access.save(update_fields=["reviewed_at", "reviewed_by", "review_comment_sealed"])
    record_event(
        "case.emergency_access.review",
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=access.case.reference,
        object_agency=access.case.agency.code,
        details={"access": str(access.pk)},
    )
