from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Behörigheter"

    def ready(self) -> None:
        # After django-axes (earlier in INSTALLED_APPS, so readied first): a failed login is counted
        # towards the lockout before its audit event is written, even if writing it fails. Before the
        # groups: a membership's event comes before the group changes derived from it.
        from access import converters

        # Before any URL module is read (they are read lazily, at the first request or check).
        converters.register()
        from access import (
            auditing,  # noqa: F401 - chains every django-auditlog entry into the trail
            events,  # noqa: F401 - connects the signals that write audit events
            groups,  # noqa: F401 - connects the signals that keep agency groups in step
        )
