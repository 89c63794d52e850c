"""Förfrågningar om samverkan: the owning agency sends a case to another agency for action.

Who may see a referral, decided here once (``referral_access``): the caseworkers of the sending agency,
which owns the case, and the caseworkers of the receiving agency while a disclosure of the case to it is
in force. A referral is never a way into a case: without a disclosure in force the receiving agency sees
neither the referral nor the case (404), whatever the referral's status.

Every change is a ``do_*`` action: one transaction with its audit event (ids and agency codes, never the
sealed request or reason) and its notifications; e-mails leave only after the commit. Refusals raise
CaseActionError with a message for the user and change nothing.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case as DbCase
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Concat
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.audit import record_event
from access.groups import GROUP_PREFIX
from access.models import CASEWORK_ROLES, Agency, Membership, User
from cases.actions import CaseActionError, current_contribution_number, do_save_contribution
from cases.models import Case, CaseGroupObjectPermission, Disclosure
from cases.permissions import CaseAccess, case_access, disclosed_categories
from cases.policy import access_case_with_rights, casework_memberships
from cases.records import _Redacted
from cases.sharing import do_disclose_case
from cases.vault import CaseVault
from coordination.models import REFERRAL_TRANSITIONS, NotificationKind, Referral, ReferralStatus
from coordination.notifications import notify

SENDER = "sender"
RECEIVER = "receiver"
OPEN_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)
# The receiving agency's first contribution when it accepts (stored data, so always Swedish).
ACCEPTED_CONTRIBUTION = "Förfrågan om samverkan accepterad."
REQUEST_MAX_LENGTH = 5000


def _side_of(target: str) -> str:
    """Which side moves a referral to ``target``: the same from every status (REFERRAL_TRANSITIONS)."""
    sides = {moves[target] for moves in REFERRAL_TRANSITIONS.values() if target in moves}
    if len(sides) != 1:
        raise ValueError(f"No single side moves a referral to {target!r}.")
    return sides.pop()


# What the transition is called in a message ("kan inte accepteras") and who may make it.
_VERBS: dict[str, Promise] = {
    ReferralStatus.ACCEPTED: gettext_lazy("accepteras"),
    ReferralStatus.REJECTED: gettext_lazy("avvisas"),
    ReferralStatus.REVOKED: gettext_lazy("återkallas"),
    ReferralStatus.DONE: gettext_lazy("markeras som klar"),
}
_WRONG_SIDE: dict[str, Promise] = {
    ReferralStatus.ACCEPTED: gettext_lazy(
        "Bara den mottagande myndighetens handläggare och samordnare kan acceptera förfrågan."
    ),
    ReferralStatus.REJECTED: gettext_lazy(
        "Bara den mottagande myndighetens handläggare och samordnare kan avvisa förfrågan."
    ),
    ReferralStatus.REVOKED: gettext_lazy(
        "Bara den skickande myndighetens handläggare och samordnare kan återkalla förfrågan."
    ),
    ReferralStatus.DONE: gettext_lazy(
        "Bara den mottagande myndighetens handläggare och samordnare kan markera förfrågan som klar."
    ),
}
_AUDIT_ACTIONS: dict[str, str] = {
    ReferralStatus.ACCEPTED: "referral.accept",
    ReferralStatus.REJECTED: "referral.reject",
    ReferralStatus.REVOKED: "referral.revoke",
    ReferralStatus.DONE: "referral.done",
}


# --- Who may see and do what ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralAccess:
    """What one user may do with one referral. ``sender`` and ``receiver`` are the user's casework
    memberships on either side (a user in both agencies holds both); at least one is set."""

    referral: Referral
    case_access: CaseAccess
    sender: Membership | None
    receiver: Membership | None

    @property
    def membership(self) -> Membership:
        """The membership the user reads in (for the audit trail): the sending side first."""
        chosen = self.sender or self.receiver
        if chosen is None:  # referral_access never builds one without; a caller by hand might
            raise ValueError("A referral access needs a membership on one side.")
        return chosen

    def membership_for(self, side: str) -> Membership | None:
        return self.sender if side == SENDER else self.receiver

    def may_ever(self, target: str) -> bool:
        """Whether the user's side is the one that makes this transition (from any status)."""
        return self.membership_for(_side_of(target)) is not None

    def allowed_transitions(self) -> list[str]:
        """The transitions open to this user now, in the order of the table."""
        moves = REFERRAL_TRANSITIONS[self.referral.status]
        return [target for target, side in moves.items() if self.membership_for(side) is not None]


def _casework_membership(user: User, agency_id: int) -> Membership | None:
    return next((m for m in casework_memberships(user) if m.agency_id == agency_id), None)


def referral_access(user: User, referral: Referral) -> ReferralAccess | None:
    """The one answer to "may ``user`` see ``referral``, and on which side", or None.

    Sending side: casework in the agency that sent it, which must still own the case. Receiving side:
    casework in the receiving agency while a disclosure of the case to that agency is in force (and
    backed by its grant, as the case pages require). Emergency access, chef, granskare and
    systemadministratör reach no referral: none of them is casework on either side.
    """
    case = referral.case
    access = case_access(user, case)
    if access is None:
        return None
    sender = None
    if referral.from_agency_id == case.agency_id and access.is_owner:
        sender = _casework_membership(user, referral.from_agency_id)
    receiver = _casework_membership(user, referral.to_agency_id)
    # Checked against the receiving agency alone: the user's other agencies give it nothing.
    if receiver is not None and disclosed_categories(user, case, [receiver]) is None:
        receiver = None
    if sender is None and receiver is None:
        return None
    return ReferralAccess(referral, access, sender, receiver)


def access_referral(user: User, referral_id: uuid.UUID) -> ReferralAccess:
    """The referral for a view, or Http404 alike for a missing one and one the user may not see.

    The case is fetched through the one door (``access_case_with_rights``) by its reference, so a
    referral cannot become a way around it. The first query already joins the scope (a case the user
    reaches, sent by or to one of their casework agencies), so a referral that exists but is not theirs
    costs exactly what a random id costs: one query, then 404."""
    agencies = Membership.objects.active().filter(user=user, role__in=CASEWORK_ROLES).values("agency")
    reference = (
        Referral.objects.filter(pk=referral_id, case__in=Case.objects.visible_to(user).values("pk"))
        .filter(Q(from_agency__in=agencies) | Q(to_agency__in=agencies))
        .values_list("case__reference", flat=True)
        .first()
    )
    if reference is None:
        raise Http404("Förfrågan finns inte.")
    case = access_case_with_rights(user, reference).case
    referral = (
        Referral.objects.select_related(
            "from_agency", "to_agency", "disclosure", "sent_by", "answered_by", "closed_by"
        )
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        raise Http404("Förfrågan finns inte.")
    referral.case = case
    access = referral_access(user, referral)
    if access is None:
        raise Http404("Förfrågan finns inte.")
    return access


def disclosure_in_force(case: Case, recipient: Agency) -> Disclosure | None:
    """The newest disclosure of ``case`` to ``recipient`` that is in force, if any."""
    return (
        Disclosure.objects.active()
        .filter(case=case, recipient=recipient)
        .exclude(legal_basis="")
        .order_by("-created_at")
        .first()
    )


def casework_users(agency: Agency) -> list[User]:
    """The active handläggare and samordnare of ``agency``: who is told about its referrals."""
    return list(
        User.objects.filter(
            is_active=True,
            memberships__agency=agency,
            memberships__agency__is_active=True,
            memberships__role__in=CASEWORK_ROLES,
        )
        .distinct()
        .order_by("pk")
    )


# --- Lists ----------------------------------------------------------------------------------------------


def _receiver_may_see() -> tuple[Exists, Exists]:
    """Conditions on a Referral row: the case is disclosed to its receiving agency, in force, and that
    agency's own grant backs it (the same two facts ``disclosed_categories`` checks for one case)."""
    in_force = Disclosure.objects.active().filter(case=OuterRef("case"), recipient=OuterRef("to_agency"))
    grant = CaseGroupObjectPermission.objects.filter(
        content_object=OuterRef("case"),
        permission__codename="view_case",
        group__name=Concat(Value(GROUP_PREFIX), OuterRef("to_agency__code")),
    )
    return Exists(in_force), Exists(grant)


def _open_first(rows: QuerySet[Referral]) -> QuerySet[Referral]:
    closed_last = DbCase(
        When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return rows.order_by(closed_last, "-sent_at")


def received_referrals(user: User, memberships: list[Membership] | None = None) -> QuerySet[Referral]:
    """Referrals to the agencies where ``user`` does casework (``memberships``, if the caller has
    them already), open ones first, then newest first.

    Only those the receiving agency may still see: a referral whose disclosure has ended (revoked,
    consent withdrawn, expired) with none other in force is left out entirely, row, reference and all,
    because the agency no longer has a legal basis to hold anything of the case. The inbox says only
    how many are hidden (``hidden_received_count``): the agency knows it received them, and the count
    names no case.
    """
    agencies = [m.agency_id for m in (casework_memberships(user) if memberships is None else memberships)]
    in_force, grant = _receiver_may_see()
    rows = (
        Referral.objects.filter(to_agency__in=agencies)
        .filter(case__in=Case.objects.visible_to(user))
        .filter(in_force, grant)
        .select_related("case", "from_agency", "to_agency")
    )
    return _open_first(rows)


def hidden_received_count(memberships: list[Membership], shown: int) -> int:
    """How many referrals to these agencies can no longer be shown, given that ``shown`` can."""
    return Referral.objects.filter(to_agency__in=[m.agency_id for m in memberships]).count() - shown


def sent_referrals(user: User, memberships: list[Membership] | None = None) -> QuerySet[Referral]:
    """Referrals sent by the agencies where ``user`` does casework, of cases they still own."""
    agencies = [m.agency_id for m in (casework_memberships(user) if memberships is None else memberships)]
    rows = (
        Referral.objects.filter(from_agency__in=agencies, case__agency__in=agencies)
        .filter(case__in=Case.objects.visible_to(user))
        .select_related("case", "from_agency", "to_agency")
    )
    return _open_first(rows)


def case_referrals(access: CaseAccess) -> QuerySet[Referral]:
    """The referrals of one case that the reader may see: all of them for the owning agency; those to
    their own agency for a disclosed-to agency; none through emergency access."""
    rows = Referral.objects.filter(case=access.case).select_related("from_agency", "to_agency")
    if access.is_owner:
        return rows.order_by("-sent_at")
    if access.via == "disclosure" and access.membership is not None:
        return rows.filter(to_agency=access.membership.agency_id).order_by("-sent_at")
    return rows.none()


# --- Reading ----------------------------------------------------------------------------------------------


@dataclass(repr=False)
class ReferralText(_Redacted):
    """The decrypted free texts of a referral."""

    request_text: str
    rejection_reason: str = field(default="")


@transaction.atomic
def read_referral(access: ReferralAccess, *, user: User, request: HttpRequest | None) -> ReferralText:
    """The request (and a rejection's reason), decrypted after writing ``referral.read`` in the same
    transaction: if the audit event cannot be written, nothing is decrypted (fail closed)."""
    current = referral_access(user, access.referral)
    if current is None:
        raise Http404("Förfrågan finns inte.")
    referral = current.referral
    case = referral.case
    record_event(
        "referral.read",
        actor=user,
        membership=current.membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=current.case_access.via,
        details=_details(referral),
    )
    vault = CaseVault.for_case(case)
    return ReferralText(
        request_text=vault.open(referral, "request"),
        rejection_reason=vault.open(referral, "rejection_reason") if referral.rejection_reason_sealed else "",
    )


# --- Actions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureTerms:
    """A disclosure to record together with the referral (cases.sharing.do_disclose_case's values)."""

    legal_basis: str
    categories: list[str]
    justification: str
    valid_until: datetime.date | None = None
    never_disclose_to: list[str] = field(default_factory=list)


def _details(referral: Referral) -> dict[str, object]:
    return {
        "referral": str(referral.pk),
        "from_agency": referral.from_agency.code,
        "to_agency": referral.to_agency.code,
    }


def _audit(
    action: str,
    referral: Referral,
    *,
    acting_user: User,
    membership: Membership,
    request: HttpRequest | None,
    extra: dict[str, object] | None = None,
) -> None:
    case = referral.case
    record_event(
        action,
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        details={**_details(referral), **(extra or {})},
    )


@transaction.atomic
def do_send_referral(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    recipient: Agency,
    request_text: str,
    disclosure_terms: DisclosureTerms | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Send ``case`` to ``recipient`` with a sealed request. It needs a disclosure to the recipient in
    force; with ``disclosure_terms`` one is recorded in this same transaction, so a refusal of either
    the disclosure or the referral saves neither. Only the owning agency's caseworkers send."""
    access = case_access(acting_user, case)
    if (
        access is None
        or not access.is_owner
        or membership.user_id != acting_user.pk
        or membership.agency_id != case.agency_id
        or membership.role not in CASEWORK_ROLES
        or not membership.agency.is_active
    ):
        raise CaseActionError(
            _("Bara den ägande myndighetens handläggare och samordnare kan skicka en förfrågan om samverkan.")
        )
    if recipient.pk == case.agency_id:
        raise CaseActionError(_("En förfrågan skickas till en annan myndighet än den som äger ärendet."))
    if not recipient.is_active:
        raise CaseActionError(_("Mottagaren är inte en aktiv myndighet."))
    text = request_text.strip()
    if not text:
        raise CaseActionError(_("Skriv vad ni ber myndigheten om."))
    if len(text) > REQUEST_MAX_LENGTH:
        raise CaseActionError(_("Förfrågan är för lång."))
    if Referral.objects.filter(case=case, to_agency=recipient, status__in=OPEN_STATUSES).exists():
        raise CaseActionError(
            _("Det finns redan en öppen förfrågan till %(agency)s i ärendet.") % {"agency": recipient.name}
        )
    if disclosure_terms is not None:
        disclosure = do_disclose_case(
            case,
            acting_user=acting_user,
            membership=membership,
            recipient=recipient,
            legal_basis=disclosure_terms.legal_basis,
            categories=disclosure_terms.categories,
            justification=disclosure_terms.justification,
            valid_until=disclosure_terms.valid_until,
            never_disclose_to=disclosure_terms.never_disclose_to,
            request=request,
        )
    else:
        found = disclosure_in_force(case, recipient)
        if found is None:
            raise CaseActionError(
                _(
                    "Ärendet är inte utlämnat till %(agency)s. En förfrågan kräver ett utlämnande med "
                    "rättslig grund: registrera ett i samma steg."
                )
                % {"agency": recipient.name}
            )
        disclosure = found
    referral = Referral(
        case=case,
        from_agency=membership.agency,
        to_agency=recipient,
        disclosure=disclosure,
        sent_by=acting_user,
    )
    CaseVault.for_case(case).seal(referral, "request", text)
    referral.save(force_insert=True)
    _audit(
        "referral.send",
        referral,
        acting_user=acting_user,
        membership=membership,
        request=request,
        extra={"disclosure": str(disclosure.pk)},
    )
    notify(
        casework_users(recipient), NotificationKind.REFERRAL_RECEIVED, referral=referral, exclude=acting_user
    )
    return referral


def _sender_side_users(referral: Referral) -> list[User]:
    """Whoever sent it, while they still do casework in the sending agency; else that agency's
    caseworkers, so an answer never goes unseen."""
    if _casework_membership(referral.sent_by, referral.from_agency_id) is not None:
        return [referral.sent_by]
    return casework_users(referral.from_agency)


def _move(
    referral: Referral,
    target: str,
    *,
    acting_user: User,
    request: HttpRequest | None,
    rejection_reason: str = "",
) -> tuple[Referral, Membership]:
    """Check and make one transition on the locked row; the caller audits and notifies."""
    # Locked, so two people answering the same referral at once cannot both pass the status check.
    locked = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("case", "case__agency", "case__person", "from_agency", "to_agency", "sent_by")
        .filter(pk=referral.pk)
        .first()
    )
    access = referral_access(acting_user, locked) if locked is not None else None
    if locked is None or access is None:
        raise CaseActionError(_("Förfrågan finns inte."))
    membership = access.membership_for(_side_of(target))
    if membership is None:
        raise CaseActionError(str(_WRONG_SIDE[target]))
    if target not in REFERRAL_TRANSITIONS[locked.status]:
        raise CaseActionError(
            _("Förfrågan har status %(status)s och kan inte %(verb)s.")
            % {"status": ReferralStatus(locked.status).label, "verb": _VERBS[target]}
        )
    now = timezone.now()
    locked.status = target
    fields = ["status"]
    if target in (ReferralStatus.ACCEPTED, ReferralStatus.REJECTED):
        locked.answered_by, locked.answered_at = acting_user, now
        fields += ["answered_by", "answered_at"]
    else:
        locked.closed_by, locked.closed_at = acting_user, now
        fields += ["closed_by", "closed_at"]
    if target == ReferralStatus.REJECTED:
        CaseVault.for_case(locked.case).seal(locked, "rejection_reason", rejection_reason)
        fields.append("rejection_reason_sealed")
    locked.save(update_fields=fields)
    _audit(_AUDIT_ACTIONS[target], locked, acting_user=acting_user, membership=membership, request=request)
    return locked, membership


@transaction.atomic
def do_accept_referral(
    referral: Referral, *, acting_user: User, request: HttpRequest | None = None
) -> Referral:
    """The receiving agency takes the referral on. Its contribution joins the case: if it has written
    none yet, a first version saying the referral was accepted, which it then writes on through the
    case page (the disclosure in force lets it contribute)."""
    accepted, membership = _move(referral, ReferralStatus.ACCEPTED, acting_user=acting_user, request=request)
    case = accepted.case
    if current_contribution_number(case, membership.agency) == 0:
        do_save_contribution(
            case,
            acting_user=acting_user,
            membership=membership,
            text=ACCEPTED_CONTRIBUTION,
            based_on=0,
            request=request,
        )
    notify(
        _sender_side_users(accepted),
        NotificationKind.REFERRAL_ANSWERED,
        referral=accepted,
        exclude=acting_user,
    )
    return accepted


@transaction.atomic
def do_reject_referral(
    referral: Referral, *, acting_user: User, reason: str, request: HttpRequest | None = None
) -> Referral:
    """The receiving agency says no, with a reason (sealed, shown to both agencies)."""
    text = reason.strip()
    if not text:
        raise CaseActionError(_("Skriv varför förfrågan avvisas."))
    if len(text) > REQUEST_MAX_LENGTH:
        raise CaseActionError(_("Skälet är för långt."))
    rejected, _membership = _move(
        referral, ReferralStatus.REJECTED, acting_user=acting_user, request=request, rejection_reason=text
    )
    notify(
        _sender_side_users(rejected),
        NotificationKind.REFERRAL_ANSWERED,
        referral=rejected,
        exclude=acting_user,
    )
    return rejected


@transaction.atomic
def do_revoke_referral(
    referral: Referral, *, acting_user: User, request: HttpRequest | None = None
) -> Referral:
    """The sending agency withdraws the referral, sent or accepted. The disclosure is not touched:
    ending it is a decision of its own (cases: Utlämnanden)."""
    revoked, _membership = _move(referral, ReferralStatus.REVOKED, acting_user=acting_user, request=request)
    notify(
        casework_users(revoked.to_agency),
        NotificationKind.REFERRAL_REVOKED,
        referral=revoked,
        exclude=acting_user,
    )
    return revoked


@transaction.atomic
def do_complete_referral(
    referral: Referral, *, acting_user: User, request: HttpRequest | None = None
) -> Referral:
    """The receiving agency has done what was asked."""
    done, _membership = _move(referral, ReferralStatus.DONE, acting_user=acting_user, request=request)
    notify(_sender_side_users(done), NotificationKind.REFERRAL_ANSWERED, referral=done, exclude=acting_user)
    return done


# --- For the pages ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    status: str
    label: str
    by: User | None
    at: datetime.datetime


def status_history(referral: Referral) -> list[HistoryEntry]:
    """Who moved the referral when, oldest first (sent; accepted or rejected; revoked or done)."""
    entries = [
        HistoryEntry(ReferralStatus.SENT, str(ReferralStatus.SENT.label), referral.sent_by, referral.sent_at)
    ]
    if referral.answered_at is not None:
        answer = (
            ReferralStatus.REJECTED if referral.status == ReferralStatus.REJECTED else ReferralStatus.ACCEPTED
        )
        entries.append(HistoryEntry(answer, str(answer.label), referral.answered_by, referral.answered_at))
    if referral.closed_at is not None:
        end = ReferralStatus(referral.status)
        entries.append(HistoryEntry(end, str(end.label), referral.closed_by, referral.closed_at))
    return entries
