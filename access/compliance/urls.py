from __future__ import annotations

from django.urls import path

from access.compliance import views

app_name = "compliance"

# Mounted at /granskning/ (coordination/urls.py), beside cases' emergency review at
# /granskning/nodatkomster/. Only references, usernames, agency codes, action codes and dates ever
# travel in these URLs: never a name or a number of a person subjected to violence.
urlpatterns = [
    path("", views.start, name="start"),
    path("handelser/", views.search, name="search"),
    path("handelser/export/", views.export, name="export"),
    path("arende/<trail_reference:reference>/", views.case_history, name="case_history"),
    path("anvandare/<username:username>/", views.user_activity, name="user_activity"),
    path("avvikelser/", views.anomaly_review, name="anomalies"),
    path("kontrollpunkter/", views.checkpoint_export, name="checkpoint_export"),
]
