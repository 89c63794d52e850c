from __future__ import annotations

from typing import Any

KEYSTORE = "keys"
_KEYSTORE_MODELS = {"casekey"}


class KeystoreRouter:
    """Case data keys live only in the key store; nothing else ever does."""

    def _is_key_model(self, model: type[Any]) -> bool:
        meta = model._meta
        return bool(meta.app_label == "cases" and meta.model_name in _KEYSTORE_MODELS)

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return KEYSTORE if self._is_key_model(model) else None

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return KEYSTORE if self._is_key_model(model) else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        is_key_model = app_label == "cases" and model_name in _KEYSTORE_MODELS
        if db == KEYSTORE:
            return is_key_model
        return not is_key_model
