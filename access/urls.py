from __future__ import annotations

from django.urls import path

from access import views

app_name = "access"

urlpatterns = [
    path("logga-in/", views.login_password, name="login"),
    path("tvafaktor/", views.second_factor, name="second_factor"),
    path("aktivera/<token:token>/", views.enrolment_link, name="enrolment_link"),
    path("tvafaktor/aktivera/", views.enrol, name="enrol"),
    path("tvafaktor/qr.svg", views.enrol_qr, name="enrol_qr"),
    path("logga-ut/", views.logout_view, name="logout"),
]
