"""Key rotation: re-wrap every case's data key with the current key-encryption key.

Field ciphertexts never change, so rotation touches only the small key store, in batches, each in its
own short transaction, while the system runs. It is resumable by construction: a run re-wraps whatever
is not yet on the current version, so a stopped run is finished by the next one. Readers see either
the old wrapping (its KEK is still configured) or the new one, never a half-written row.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from cases.crypto import unwrap_data_key, wrap_data_key
from cases.keys import KeyProvider, new_key
from cases.models import CaseKey
from cases.routers import KEYSTORE


def versions_in_use() -> Counter[str]:
    return Counter(CaseKey.objects.values_list("kek_version", flat=True))


def rewrap_batch(provider: KeyProvider, *, batch_size: int) -> int:
    """Re-wrap up to ``batch_size`` data keys that are not on the current version; returns how many."""
    target = provider.current_kek_version()
    with transaction.atomic(using=KEYSTORE):
        rows = list(
            CaseKey.objects.select_for_update().exclude(kek_version=target).order_by("case_id")[:batch_size]
        )
        now = timezone.now()
        for row in rows:
            data_key = unwrap_data_key(
                bytes(row.wrapped_key), version=row.kek_version, case_id=row.case_id, provider=provider
            )
            row.kek_version, row.wrapped_key = wrap_data_key(data_key, case_id=row.case_id, provider=provider)
            row.rewrapped_at = now
        CaseKey.objects.bulk_update(rows, ["kek_version", "wrapped_key", "rewrapped_at"])
    return len(rows)


def add_key_to_file(path: Path, version: str) -> None:
    """Add a new random KEK ``version`` to a key file and make it current, replacing the file atomically
    (a crash leaves either the old file or the new one, never a torn one)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if version in data.get("keks", {}):
        raise ValueError(f"Key version {version!r} already exists in {path}.")
    data["keks"][version] = new_key()
    data["current"] = version
    base64.b64decode(data["keks"][version])  # sanity: what we wrote is what we will read
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
