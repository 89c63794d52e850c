from __future__ import annotations

from django.urls import path

from cases import views

app_name = "cases"

# Only opaque references and UUIDs ever appear in these URLs: never a name or a number. Mounted at the
# site root (coordination/urls.py) because the granskare's review queue lives outside /arenden/.
urlpatterns = [
    path("arenden/", views.case_list, name="list"),
    path("arenden/sok/", views.search, name="search"),
    path("arenden/referens/", views.open_reference, name="open_reference"),
    path("arenden/nytt/", views.case_create, name="create"),
    # Before <reference>/, which would otherwise take "referens" or "nodatkomst" for a reference.
    path("arenden/nodatkomst/", views.emergency_search, name="emergency_search"),
    path("arenden/nodatkomst/begar/", views.emergency_request, name="emergency_request"),
    path("arenden/<case:reference>/", views.case_detail, name="detail"),
    path("arenden/<case:reference>/person/", views.person_edit, name="person"),
    path("arenden/<case:reference>/klassificering/", views.classification_edit, name="classification"),
    path(
        "arenden/<case:reference>/riskbedomningar/ny/", views.risk_assessment_add, name="risk_assessment_add"
    ),
    path(
        "arenden/<case:reference>/skyddsinsatser/ny/",
        views.protective_measure_add,
        name="protective_measure_add",
    ),
    path("arenden/<case:reference>/handelser/ny/", views.incident_add, name="incident_add"),
    path("arenden/<case:reference>/sammanfattning/", views.summary_edit, name="summary"),
    path("arenden/<case:reference>/sammanfattning/historik/", views.summary_history, name="summary_history"),
    path("arenden/<case:reference>/bidrag/", views.contribution_edit, name="contribution"),
    path("arenden/<case:reference>/status/", views.status_change, name="status"),
    path("arenden/<case:reference>/bevarandebeslut/", views.legal_hold_change, name="legal_hold"),
    path("arenden/<case:reference>/utlamnanden/", views.disclosures, name="disclosures"),
    path("arenden/<case:reference>/utlamnanden/nytt/", views.disclose, name="disclose"),
    path(
        "arenden/<case:reference>/utlamnanden/<uuid:disclosure_id>/avsluta/",
        views.end_disclosure,
        name="end_disclosure",
    ),
    path("granskning/nodatkomster/", views.emergency_reviews, name="emergency_reviews"),
    path("granskning/nodatkomster/<uuid:access_id>/", views.emergency_review, name="emergency_review"),
]
