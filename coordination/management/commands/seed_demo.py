from __future__ import annotations

import datetime
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import demo
from access.models import Agency, EnrolmentLink, Membership, User
from access.models_admin import EnrolmentPurpose, token_digest
from cases import demo as demo_cases
from cases.demo import seed_cases


class Command(BaseCommand):
    help = (
        "Create the documented demo agencies, users (one per role) with known passwords and TOTP "
        "secrets, and fictional demo cases. Refuses to run unless SKYDDSNAT_DEBUG is on, or "
        "--allow-without-debug is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Run even though DEBUG is off, for a staging or training server. Never in production: "
            "every demo password is published.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        database = connection.settings_dict["NAME"]
        if not settings.DEBUG:
            if not options["allow_without_debug"]:
                raise CommandError(
                    "Refusing to create demo users with published passwords: DEBUG is off, so this "
                    "looks like a production system. Use --allow-without-debug for a training server."
                )
            demo_names = {user.username for user in demo.USERS}
            if User.objects.exclude(username__in=demo_names).exists():
                raise CommandError(
                    f"Refusing to add demo users to database {database!r}: it already holds real "
                    "user accounts."
                )
            sys.stderr.write(
                f"WARNING: DEBUG is off; creating demo users with published passwords in {database!r}.\n"
            )
        with transaction.atomic():
            agencies = self._agencies()
            self._users(agencies)
            new_cases = seed_cases()
        self.stdout.write(
            f"Demo data ready in {database}: {len(demo.AGENCIES)} agencies, {len(demo.USERS)} users, "
            f"{len(demo_cases.CASES)} cases ({new_cases} new)."
        )

    def _agencies(self) -> dict[str, Agency]:
        agencies = {}
        for item in demo.AGENCIES:
            agency, _created = Agency.objects.update_or_create(
                code=item.code, defaults={"name": item.name, "kind": item.kind, "is_active": True}
            )
            agencies[item.code] = agency
        return agencies

    def _users(self, agencies: dict[str, Agency]) -> None:
        for item in demo.USERS:
            user, _created = User.objects.update_or_create(
                username=item.username,
                defaults={
                    "first_name": item.first_name,
                    "last_name": item.last_name,
                    "is_active": True,
                    "is_staff": False,
                    "email": f"{item.username}@demo.skyddsnat.invalid",
                    "is_superuser": False,
                },
            )
            user.set_password(demo.DEMO_PASSWORD)
            user.save(update_fields=["password"])
            # The systemadministratör works in the administration views, never in the Django admin.
            user.user_permissions.clear()
            user.memberships.exclude(agency__code__in=[code for code, _role in item.memberships]).delete()
            for code, role in item.memberships:
                Membership.objects.update_or_create(
                    user=user, agency=agencies[code], ended_at=None, defaults={"role": role}
                )
            TOTPDevice.objects.filter(user=user).delete()
            if item.enrolled:
                TOTPDevice.objects.create(user=user, name="Demo", key=demo.DEMO_TOTP_KEY_HEX, confirmed=True)
            else:
                self._enrolment_link(user)

    def _enrolment_link(self, user: User) -> None:
        """The published link the not-yet-enrolled demo user enrols with (demo_instructions prints it)."""
        EnrolmentLink.objects.filter(user=user).delete()
        EnrolmentLink.objects.create(
            user=user,
            token_hash=token_digest(demo.DEMO_ENROLMENT_TOKEN),
            purpose=EnrolmentPurpose.INVITATION,
            expires_at=timezone.now() + datetime.timedelta(days=365),
        )
