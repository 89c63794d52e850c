"""What django-auditlog tracks (settings.AUDITLOG_INCLUDE_TRACKING_MODELS), kept apart from the
settings module so both apps' models can be named here without importing either."""

from __future__ import annotations

from typing import Any


def tracked_models() -> tuple[dict[str, Any], ...]:
    """AUDITLOG_INCLUDE_TRACKING_MODELS: what is tracked, and what is left out or masked in each.

    Sealed columns (``*_sealed``: AES-GCM ciphertext) are left out: auditlog cannot diff binary values,
    and a ciphertext says nothing a reviewer can use. The case actions' own events name which parts of
    a case changed (cases/actions.py). Masked (constant mask, access/auditing.py): the blind index and
    the password hash, so a change shows without its value.

    Left out on purpose: cases.CaseKey (wrapped data keys, in the key store), cases.StatisticsBlock
    (a logged change, timed like the case it came from, would link a pseudonym back to its case), and
    sessions and OTP devices (secrets)."""
    sealed: dict[str, list[str]] = {
        "cases.case": ["classification_sealed"],
        "cases.person": [
            "identity_number_sealed",
            "name_sealed",
            "contact_sealed",
            "safe_contact_sealed",
            "address_sealed",
            "legal_gender_sealed",
            "birth_year_sealed",
        ],
        "cases.riskassessment": ["result_sealed", "override_reason_sealed", "notes_sealed"],
        "cases.protectivemeasure": ["details_sealed", "notes_sealed"],
        "cases.incident": ["forms_sealed", "notes_sealed"],
        "cases.summaryversion": ["paragraphs_sealed"],
        "cases.contributionversion": ["text_sealed"],
        "cases.disclosure": ["justification_sealed"],
        "cases.emergencyaccess": ["reason_sealed", "review_comment_sealed"],
        "cases.exportnote": ["note_sealed"],
        "cases.casegroupobjectpermission": [],
        "cases.caseuserobjectpermission": [],
        "coordination.referral": ["request_sealed", "rejection_reason_sealed"],
        "coordination.action": ["description_sealed"],
        "coordination.meeting": [],
        "coordination.agendaitem": ["snapshot_sealed", "minutes_sealed", "decisions_sealed"],
        "coordination.attendance": [],
        "access.agency": [],
        "access.membership": [],
        "access.user": [],
    }
    masked = {"cases.person": ["identity_index"], "access.user": ["password"]}
    return tuple(
        {"model": model, "exclude_fields": fields, "mask_fields": masked.get(model, [])}
        for model, fields in sealed.items()
    )
