from __future__ import annotations

from django.urls import path

from access import administration_views as views

app_name = "administration"

# Mounted at /administration/. Users are named by their opaque public id, never by name.
urlpatterns = [
    path("", views.overview, name="overview"),
    path("anvandare/ny/", views.user_create, name="user_create"),
    path("anvandare/<uuid:public_id>/", views.user_detail, name="user_detail"),
    path("anvandare/<uuid:public_id>/roll/", views.membership_grant, name="membership_grant"),
    path("anvandare/<uuid:public_id>/inaktivera/", views.user_deactivate, name="user_deactivate"),
    path("anvandare/<uuid:public_id>/aktivera/", views.user_reactivate, name="user_reactivate"),
    path("anvandare/<uuid:public_id>/las-upp/", views.lockout_lift, name="lockout_lift"),
    path("anvandare/<uuid:public_id>/ny-lank/", views.invitation_resend, name="invitation_resend"),
    path("anvandare/<uuid:public_id>/andring/", views.account_change_request, name="account_change_request"),
    path("roll/<uuid:public_id>/bekrafta/", views.membership_confirm, name="membership_confirm"),
    path("roll/<uuid:public_id>/avsla/", views.membership_reject, name="membership_reject"),
    path("roll/<uuid:public_id>/avsluta/", views.membership_end, name="membership_end"),
    path("andring/<uuid:public_id>/bekrafta/", views.account_change_confirm, name="account_change_confirm"),
    path("andring/<uuid:public_id>/avbryt/", views.account_change_cancel, name="account_change_cancel"),
]
