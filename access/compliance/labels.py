"""Readable Swedish names for the codes the audit trail stores.

The trail keeps stable codes (``case.read``); the pages show these labels and fall back to the raw code
for anything not listed here, so a new kind of event is never hidden, only shown less kindly.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from access.models import Role

ACTION_LABELS: dict[str, Promise] = {
    "case.open": _("Ärende öppnat"),
    "case.read": _("Ärende läst"),
    "case.search": _("Sökning på nummer"),
    "case.person.update": _("Personuppgifter ändrade"),
    "case.classification.update": _("Klassificering ändrad"),
    "case.status": _("Status ändrad"),
    "case.legal_hold": _("Bevarandebeslut ändrat"),
    "case.summary.save": _("Sammanfattning sparad"),
    "case.summary.history": _("Sammanfattningens historik läst"),
    "case.contribution.save": _("Bidrag sparat"),
    "case.risk.add": _("Riskbedömning tillagd"),
    "case.measure.add": _("Skyddsinsats tillagd"),
    "case.incident.add": _("Händelse i ärendet tillagd"),
    "case.disclose": _("Ärende utlämnat"),
    "case.disclosure.end": _("Utlämnande avslutat"),
    "case.disclosure.expired": _("Utlämnande har löpt ut"),
    "case.disclosures.read": _("Utlämnanden lästa"),
    "case.emergency_search": _("Sökning för nödåtkomst"),
    "case.emergency_access": _("Nödåtkomst"),
    "case.emergency_search_throttled": _("Sökning för nödåtkomst över timgränsen"),
    "case.emergency_refusal_shown": _("Personens nej visat vid begäran om nödåtkomst"),
    "case.emergency_access.review": _("Nödåtkomst granskad"),
    "case.emergency_access.reasons.read": _("Skäl för nödåtkomst lästa"),
    "case.import": _("Ärenden importerade"),
    "case.gallring_started": _("Gallring av ärende påbörjad"),
    "case.gallrad": _("Ärende gallrat"),
    "keys.rotate": _("Nycklar roterade"),
    "auth.login": _("Inloggning"),
    "auth.login_failed": _("Misslyckad inloggning"),
    "auth.second_factor_failed": _("Fel engångskod"),
    "auth.lockout": _("Konto spärrat efter misslyckade försök"),
    "auth.logout": _("Utloggning"),
    "auth.totp_enrolled": _("Autentiseringsapp aktiverad"),
    "auth.login_refused": _("Inloggning nekad: ingen aktiverad autentiseringsapp"),
    "auth.enrolment_link_opened": _("Aktiveringslänk öppnad"),
    "auth.enrolment_link_refused": _("Ogiltig aktiveringslänk"),
    "admin.user_create": _("Konto skapat"),
    "admin.enrolment_link_sent": _("Aktiveringslänk skickad"),
    "admin.user_deactivate": _("Konto inaktiverat"),
    "admin.user_reactivate": _("Konto aktiverat igen"),
    "admin.lockout_lift": _("Spärr hävd"),
    "admin.membership_grant": _("Roll beviljad"),
    "admin.membership_confirm": _("Roll bekräftad"),
    "admin.membership_reject": _("Roll avslagen"),
    "admin.membership_end": _("Roll avslutad"),
    "admin.self_change_refused": _("Ändring av eget konto nekad"),
    "admin.login_reset_request": _("Återställning av inloggning begärd"),
    "admin.login_reset": _("Inloggning återställd"),
    "admin.login_reset_cancel": _("Återställning av inloggning avbruten"),
    "admin.email_request": _("Byte av e-postadress begärt"),
    "admin.email_change": _("E-postadress ändrad"),
    "admin.email_cancel": _("Byte av e-postadress avbrutet"),
    "user.create": _("Användare skapad"),
    "user.delete": _("Användare borttagen"),
    "user.activate": _("Användare aktiverad"),
    "user.deactivate": _("Användare inaktiverad"),
    "user.permissions_change": _("Användares behörigheter ändrade"),
    "user.staff_change": _("Administratörsbehörighet ändrad"),
    "membership.create": _("Roll tilldelad"),
    "membership.change": _("Roll ändrad"),
    "membership.delete": _("Roll borttagen"),
    "agency.create": _("Myndighet skapad"),
    "agency.change": _("Myndighet ändrad"),
    "agency.delete": _("Myndighet borttagen"),
    "audit.search": _("Sökning i granskningsloggen"),
    "audit.case_history": _("Ärendets åtkomsthistorik läst"),
    "audit.user_activity": _("Användares aktivitet läst"),
    "audit.anomalies": _("Avvikelser granskade"),
    "audit.export": _("Granskningslogg exporterad"),
    "audit.checkpoints.export": _("Kontrollpunkter nedladdade"),
    "maintenance.reseal": _("Krypterade värden skrivna om med utfyllnad"),
}

# The grounds a case read is recorded with (cases/permissions.py: CaseAccess.via), and emergency access.
REASON_LABELS: dict[str, Promise] = {
    "owner": _("Ägande myndighet"),
    "disclosure": _("Utlämnande"),
    "emergency": _("Nödåtkomst"),
    "nodatkomst": _("Nödåtkomst"),
    # Why a PDF was downloaded (coordination/meeting_forms.py: ExportReason).
    "samverkansmote": _("Underlag inför samverkansmötet"),
    "skyddsplanering": _("Planering av skyddsinsatser"),
    "overlamning": _("Överlämning till en kollega eller annan enhet"),
    "tillsyn": _("Begäran från tillsynsmyndighet eller domstol"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def reason_label(reason: str) -> str:
    label = REASON_LABELS.get(reason)
    return str(label) if label is not None else reason


def role_label(role: str) -> str:
    # Role.choices' labels are lazy; str() here, per call, so the active language is the one used.
    return str(dict(Role.choices).get(role, role))
