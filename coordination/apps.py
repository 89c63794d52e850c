from __future__ import annotations

from django.apps import AppConfig


class CoordinationConfig(AppConfig):
    name = "coordination"
    verbose_name = "Samverkan"

    def ready(self) -> None:
        from coordination import checks  # noqa: F401 - registers the system checks
