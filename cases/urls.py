from __future__ import annotations

from django.urls import path

from cases import views

app_name = "cases"

# Only the opaque reference ever appears in these URLs: never a name or a number.
urlpatterns = [
    path("", views.case_list, name="list"),
    path("sok/", views.search, name="search"),
    path("nytt/", views.case_create, name="create"),
    path("<str:reference>/", views.case_detail, name="detail"),
    path("<str:reference>/person/", views.person_edit, name="person"),
    path("<str:reference>/klassificering/", views.classification_edit, name="classification"),
    path("<str:reference>/riskbedomningar/ny/", views.risk_assessment_add, name="risk_assessment_add"),
    path("<str:reference>/skyddsinsatser/ny/", views.protective_measure_add, name="protective_measure_add"),
    path("<str:reference>/handelser/ny/", views.incident_add, name="incident_add"),
    path("<str:reference>/sammanfattning/", views.summary_edit, name="summary"),
    path("<str:reference>/sammanfattning/historik/", views.summary_history, name="summary_history"),
    path("<str:reference>/bidrag/", views.contribution_edit, name="contribution"),
    path("<str:reference>/status/", views.status_change, name="status"),
    path("<str:reference>/bevarandebeslut/", views.legal_hold_change, name="legal_hold"),
]
