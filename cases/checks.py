from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from cases.keys import key_provider, reset_key_provider


@register()
def encryption_keys_are_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse to run (every management command, runserver) without usable keys; the demo makes its own."""
    reset_key_provider()
    try:
        key_provider()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error), hint="See deploy/env.example, or run `manage.py generate_keys`.", id="cases.E001"
            )
        ]
    return []
