"""Sealing and opening one case's fields with its data key.

The only code that turns ``*_sealed`` columns into text. Callers are the case actions and the
audited read functions; a view never opens a field itself.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import models

from cases.crypto import (
    DecryptionError,
    decrypt_field,
    encrypt_field,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from cases.models import Case, CaseKey


class CaseShreddedError(DecryptionError):
    """The case's data key has been destroyed (gallring) or never existed: its data is gone for good."""


# Sealed values whose length would follow the very codes a dump must not learn: each seals to one fixed
# size (at least; every value the forms allow fits), whatever it holds. Everything else pads to its
# bucket (cases/crypto.py: PAD_BUCKETS).
SEALED_MINIMUM: dict[tuple[str, str], int] = {
    # Contexts, forms, HRV subtypes, relations, flags and children: the classification the masks count.
    ("cases_case", "classification"): 2048,
    # An incident's forms of violence (a list of codes).
    ("cases_incident", "forms"): 256,
    # A risk assessment's instrument, version and levels; a measure's kind.
    ("cases_riskassessment", "result"): 256,
    ("cases_protectivemeasure", "details"): 64,
}


class CaseVault:
    def __init__(self, case_id: uuid.UUID, data_key: bytes) -> None:
        self.case_id = case_id
        self._data_key = data_key

    def __repr__(self) -> str:
        # Never the key, not even in a traceback's locals.
        return f"<CaseVault {self.case_id}>"

    @classmethod
    def create(cls, case: Case) -> CaseVault:
        """A new random data key for a new case, stored wrapped in the key store."""
        data_key = new_data_key()
        version, wrapped = wrap_data_key(data_key, case_id=case.pk)
        CaseKey.objects.create(case_id=case.pk, kek_version=version, wrapped_key=wrapped)
        return cls(case.pk, data_key)

    @classmethod
    def for_case(cls, case: Case | uuid.UUID) -> CaseVault:
        case_id = case.pk if isinstance(case, Case) else case
        key = CaseKey.objects.filter(case_id=case_id).first()
        if key is None:
            raise CaseShreddedError(f"Case {case_id} has no data key; its data cannot be read.")
        return cls(case_id, unwrap_data_key(bytes(key.wrapped_key), version=key.kek_version, case_id=case_id))

    def seal(self, instance: models.Model, field: str, value: str) -> None:
        table = instance._meta.db_table
        setattr(
            instance,
            f"{field}_sealed",
            encrypt_field(
                self._data_key,
                value,
                table=table,
                column=field,
                row_id=instance.pk,
                minimum=SEALED_MINIMUM.get((table, field), 0),
            ),
        )

    def open(self, instance: models.Model, field: str) -> str:
        return decrypt_field(
            self._data_key,
            getattr(instance, f"{field}_sealed"),
            table=instance._meta.db_table,
            column=field,
            row_id=instance.pk,
        )

    def seal_json(self, instance: models.Model, field: str, value: Any) -> None:
        self.seal(instance, field, json.dumps(value, ensure_ascii=False, sort_keys=True))

    def open_json(self, instance: models.Model, field: str, default: Any = None) -> Any:
        text = self.open(instance, field)
        return json.loads(text) if text else default

    def seal_values(self, instance: models.Model, column: str) -> None:
        """Seal the row's sealed values of ``column`` (cases.models.sealed_value) into ``<column>_sealed``."""
        names = type(instance).SEALED_VALUES[column]  # type: ignore[attr-defined]
        self.seal_json(instance, column, {name: getattr(instance, name) for name in names})

    def open_values(self, instance: models.Model, column: str) -> models.Model:
        """Open the row's sealed values of ``column``, so they read like fields; returns the row."""
        names = type(instance).SEALED_VALUES[column]  # type: ignore[attr-defined]
        data = self.open_json(instance, column, default={})
        instance.__dict__[f"_opened_{column}"] = {name: str(data.get(name, "")) for name in names}
        return instance
