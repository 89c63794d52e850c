from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from cases.keys import MissingKeyError, key_provider, reset_key_provider


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


@register(Tags.security, deploy=True)
def audit_signing_key_is_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In production the audit trail's checkpoints must be signed (verify_audit, access/checkpoints.py)."""
    try:
        key_provider().current_audit_signing_version()
    except (ImproperlyConfigured, MissingKeyError) as error:
        return [
            Error(
                str(error),
                hint="Add an Ed25519 signing key (SKYDDSNAT_AUDIT_SIGNING_KEYS, see deploy/env.example).",
                id="cases.E002",
            )
        ]
    return []
