"""The case pages: access → action → response.

Every case is fetched through cases.policy (404 for "missing" and "not yours" alike, 403 for a reader
who tries to write) and every list is scoped by Case.objects.visible_to. Contents are shown only through
audited reads, and changed only through actions.

URLs carry opaque references and UUIDs and nothing else: searches by personnummer are POSTs, and no
message, redirect or log line names a person or a number.

- browsing: the list, the search, the case page (adapted to what the reader may see), its history;
- editing: the owning agency's forms, and each agency's own contribution;
- sharing: utlämnanden, the owner's alone;
- emergency: nödåtkomst and the granskare's review of it.
"""

from __future__ import annotations

from cases.views.browsing import case_detail, case_list, open_reference, search, summary_history
from cases.views.editing import (
    case_create,
    classification_edit,
    contribution_edit,
    incident_add,
    legal_hold_change,
    person_edit,
    protective_measure_add,
    risk_assessment_add,
    status_change,
    summary_edit,
)
from cases.views.emergency import emergency_request, emergency_review, emergency_reviews, emergency_search
from cases.views.sharing import disclose, disclosures, end_disclosure

__all__ = [
    "case_create",
    "case_detail",
    "case_list",
    "classification_edit",
    "contribution_edit",
    "disclose",
    "disclosures",
    "emergency_request",
    "emergency_review",
    "emergency_reviews",
    "emergency_search",
    "open_reference",
    "end_disclosure",
    "incident_add",
    "legal_hold_change",
    "person_edit",
    "protective_measure_add",
    "risk_assessment_add",
    "search",
    "status_change",
    "summary_edit",
    "summary_history",
]
