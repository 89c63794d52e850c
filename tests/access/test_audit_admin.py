"""Nobody deletes or edits audit rows from the admin: none of the audit models is in it at all."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from access.models import AuditCheckpoint, AuditEvent, AuditVerification, User


@pytest.mark.parametrize("model", [AuditEvent, AuditCheckpoint, AuditVerification, LogEntry])
def test_no_audit_model_is_in_the_admin(model: type) -> None:
    assert not admin.site.is_registered(model)
    opts = model._meta
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


@pytest.mark.django_db
def test_a_superuser_finds_no_audit_page_in_the_admin(login_client, systemadministrator: User) -> None:
    User.objects.filter(pk=systemadministrator.pk).update(is_staff=True, is_superuser=True)
    client = login_client(systemadministrator)
    index = client.get("/admin/")
    assert index.status_code == 200
    body = index.content.decode()
    for path in ("/admin/access/auditevent/", "/admin/auditlog/logentry/", "/admin/access/auditcheckpoint/"):
        assert path not in body
        assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_the_user_admin_offers_no_groups_or_single_permissions(
    login_client, systemadministrator: User, handlaggare: User
) -> None:
    """An agency group carries case grants; adding a user to one by hand would open cases to them."""
    User.objects.filter(pk=systemadministrator.pk).update(is_staff=True, is_superuser=True)
    page = login_client(systemadministrator).get(f"/admin/access/user/{handlaggare.pk}/change/")
    body = page.content.decode()
    assert 'name="username"' in body
    assert 'name="groups"' not in body
    assert 'name="user_permissions"' not in body
