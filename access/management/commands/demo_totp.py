from __future__ import annotations

import time
from binascii import unhexlify
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from access import demo


class Command(BaseCommand):
    help = (
        "Print the current one-time code for the demo users' shared TOTP secret, for trying the "
        "demo without an authenticator app. Works only with DEBUG on."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp works only on the local demo (SKYDDSNAT_DEBUG=true).")
        totp = TOTP(unhexlify(demo.DEMO_TOTP_KEY_HEX))
        totp.time = time.time()
        remaining = 30 - int(totp.time) % 30
        self.stdout.write(f"{totp.token():06d}  (valid for about {remaining} more seconds)")
