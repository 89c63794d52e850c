from __future__ import annotations

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Ärenden"

    def ready(self) -> None:
        from cases import checks  # noqa: F401 - registers the key check
