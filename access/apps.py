from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Behörigheter"

    def ready(self) -> None:
        from access import groups  # noqa: F401 - connects the signals that keep agency groups in step
