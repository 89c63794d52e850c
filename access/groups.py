"""Each agency's caseworkers form one auth group, so object permissions can be granted to an agency.

The groups are derived data: they always follow the memberships (handläggare and samordnare of an
active agency), kept in step by signals, and `sync_agency_groups` can rebuild them at any time.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from access.context import deriving_groups
from access.models import CASEWORK_ROLES, Agency, Membership, User

GROUP_PREFIX = "myndighet:"


def agency_group(agency: Agency) -> Group:
    group, _created = Group.objects.get_or_create(name=f"{GROUP_PREFIX}{agency.code}")
    return group


def sync_agency_groups(user: User) -> None:
    wanted = {
        agency_group(membership.agency)
        for membership in Membership.objects.active()
        .select_related("agency")
        .filter(user=user, role__in=CASEWORK_ROLES)
    }
    current = set(user.groups.filter(name__startswith=GROUP_PREFIX))
    # Marked, so the audit trail tells these derived changes from a group granted by hand.
    with deriving_groups():
        user.groups.remove(*(current - wanted))
        user.groups.add(*(wanted - current))


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _membership_changed(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    sync_agency_groups(instance.user)


@receiver(post_save, sender=Agency)
def _agency_changed(sender: type[Agency], instance: Agency, **kwargs: Any) -> None:
    for user in User.objects.filter(memberships__agency=instance).distinct():
        sync_agency_groups(user)
