from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from access import demo


class Command(BaseCommand):
    help = "Print how to log in to the local demo: address, users, password and TOTP secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args: Any, **options: Any) -> None:
        lines = [
            "",
            f"Skyddsnät demo: open {options['url']}",
            f"Every demo user has the password {demo.DEMO_PASSWORD}",
            "E-mails (enrolment links from user administration) are printed in this terminal.",
            f"and (except 'ny') the TOTP secret {demo.DEMO_TOTP_BASE32}: add it to an authenticator",
            "app, or print the current code with: .venv/bin/python manage.py demo_totp "
            "(SKYDDSNAT_DEBUG=true)",
            "Users:",
        ]
        for user in demo.USERS:
            roles = ", ".join(f"{role} at {code}" for code, role in user.memberships)
            link = options["url"].rstrip("/") + reverse(
                "access:enrolment_link", args=[demo.DEMO_ENROLMENT_TOKEN]
            )
            note = (
                ""
                if user.enrolled
                else f"  (not enrolled yet: open {link} to choose a password and scan a QR code)"
            )
            lines.append(f"  {user.username:<12} {roles}{note}")
        lines.append("")
        self.stdout.write("\n".join(lines))
