"""Where key material comes from.

Keys never live in the database or in code. A key provider hands out:
- key-encryption keys (KEKs), each with a version id; one is current and wraps new data keys, the others
  are kept only until `rotate_keys` has re-wrapped everything they wrapped;
- the blind-index key (HMAC for exact personnummer lookup);
- the pseudonym key (HMAC that keys statistics records without linking them to a case);
- the audit signing keys (Ed25519 private keys, 32-byte seeds, each with a version id; one is current),
  which sign the audit trail's checkpoints (access/checkpoints.py). Kept apart from the database so
  whoever can rewrite the database cannot forge a checkpoint.

Two providers exist now, the environment and a JSON file; anything with the same methods (an HSM, Vault)
can replace them through SKYDDSNAT_KEY_PROVIDER.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

KEY_BYTES = 32


class MissingKeyError(Exception):
    """A ciphertext names a key version the provider does not have."""


class KeyProvider(Protocol):
    def current_kek_version(self) -> str: ...

    def kek(self, version: str) -> bytes: ...

    def kek_versions(self) -> list[str]: ...

    def blind_index_key(self) -> bytes: ...

    def pseudonym_key(self) -> bytes: ...

    def current_audit_signing_version(self) -> str: ...

    def audit_signing_key(self, version: str) -> bytes: ...


def _decode_key(value: str, what: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{what} is not valid base64.") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{what} must be {KEY_BYTES} bytes (base64 of 32 random bytes), not {len(key)}."
        )
    return key


@dataclass(frozen=True)
class StaticKeyProvider:
    """Keys already loaded into memory; the environment and file providers build one of these."""

    keks: dict[str, bytes]
    current: str
    blind_index: bytes
    pseudonym: bytes
    # Optional so that a key file from before the signed checkpoints still decrypts; signing a
    # checkpoint without one fails with a clear message, and `check --deploy` reports it.
    audit_signing: dict[str, bytes] = field(default_factory=dict)
    audit_signing_current: str = ""

    def __post_init__(self) -> None:
        if not self.keks:
            raise ImproperlyConfigured("No key-encryption key is configured.")
        if self.current not in self.keks:
            raise ImproperlyConfigured(f"The current key version {self.current!r} has no key.")
        if self.audit_signing and self.audit_signing_current not in self.audit_signing:
            raise ImproperlyConfigured(
                f"The current audit signing key version {self.audit_signing_current!r} has no key."
            )
        every = [self.blind_index, self.pseudonym, *self.keks.values(), *self.audit_signing.values()]
        if len(set(every)) != len(every):
            raise ImproperlyConfigured("Every key must be different from every other key.")

    def current_kek_version(self) -> str:
        return self.current

    def kek(self, version: str) -> bytes:
        try:
            return self.keks[version]
        except KeyError:
            raise MissingKeyError(
                f"Key-encryption key version {version!r} is not configured; it may have been retired "
                "before `rotate_keys` finished."
            ) from None

    def kek_versions(self) -> list[str]:
        return sorted(self.keks)

    def blind_index_key(self) -> bytes:
        return self.blind_index

    def pseudonym_key(self) -> bytes:
        return self.pseudonym

    def current_audit_signing_version(self) -> str:
        if not self.audit_signing:
            raise MissingKeyError(
                "No audit signing key is configured (SKYDDSNAT_AUDIT_SIGNING_KEYS, or 'audit_signing' in "
                "the key file); see deploy/env.example."
            )
        return self.audit_signing_current

    def audit_signing_key(self, version: str) -> bytes:
        try:
            return self.audit_signing[version]
        except KeyError:
            raise MissingKeyError(f"Audit signing key version {version!r} is not configured.") from None

    @classmethod
    def from_mapping(cls, data: dict[str, object], source: str) -> StaticKeyProvider:
        keks_raw = data.get("keks")
        if not isinstance(keks_raw, dict) or not keks_raw:
            raise ImproperlyConfigured(f"{source}: 'keks' must map version ids to base64 keys.")
        keks = {
            str(version): _decode_key(str(value), f"{source}: KEK {version!r}")
            for version, value in keks_raw.items()
        }
        current = str(data.get("current") or max(keks))
        signing_raw = data.get("audit_signing") or {}
        if not isinstance(signing_raw, dict):
            raise ImproperlyConfigured(f"{source}: 'audit_signing' must map version ids to base64 keys.")
        signing = {
            str(version): _decode_key(str(value), f"{source}: audit signing key {version!r}")
            for version, value in signing_raw.items()
        }
        return cls(
            keks=keks,
            current=current,
            blind_index=_decode_key(str(data.get("blind_index", "")), f"{source}: blind_index"),
            pseudonym=_decode_key(str(data.get("pseudonym", "")), f"{source}: pseudonym"),
            audit_signing=signing,
            audit_signing_current=str(data.get("audit_signing_current") or (max(signing) if signing else "")),
        )


def _versioned(variable: str) -> dict[str, str]:
    """'v1:BASE64,v2:BASE64' from the environment variable ``variable``."""
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in os.environ.get(variable, "").split(","))):
        version, separator, value = item.partition(":")
        if not separator or not version:
            raise ImproperlyConfigured(f"{variable} must look like 'v1:BASE64KEY,v2:BASE64KEY'.")
        keys[version] = value
    return keys


def environment_provider() -> StaticKeyProvider:
    """SKYDDSNAT_KEKS="v1:BASE64,v2:BASE64", SKYDDSNAT_KEK_CURRENT, SKYDDSNAT_BLIND_INDEX_KEY,
    SKYDDSNAT_PSEUDONYM_KEY, SKYDDSNAT_AUDIT_SIGNING_KEYS="a1:BASE64", SKYDDSNAT_AUDIT_SIGNING_CURRENT."""
    return StaticKeyProvider.from_mapping(
        {
            "keks": _versioned("SKYDDSNAT_KEKS"),
            "current": os.environ.get("SKYDDSNAT_KEK_CURRENT", ""),
            "blind_index": os.environ.get("SKYDDSNAT_BLIND_INDEX_KEY", ""),
            "pseudonym": os.environ.get("SKYDDSNAT_PSEUDONYM_KEY", ""),
            "audit_signing": _versioned("SKYDDSNAT_AUDIT_SIGNING_KEYS"),
            "audit_signing_current": os.environ.get("SKYDDSNAT_AUDIT_SIGNING_CURRENT", ""),
        },
        "environment",
    )


def file_provider(path: Path | None = None) -> StaticKeyProvider:
    """A JSON file: {"current": "v2", "keks": {"v1": "...", "v2": "..."}, "blind_index": "...",
    "pseudonym": "..."}, readable only by the application's user."""
    path = path or Path(os.environ.get("SKYDDSNAT_KEY_FILE", ""))
    if not str(path) or not path.is_file():
        raise ImproperlyConfigured(f"SKYDDSNAT_KEY_FILE {str(path)!r} is not a readable file.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ImproperlyConfigured(f"{path} is not valid JSON: {error.msg} at line {error.lineno}.") from None
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"{path} must hold a JSON object.")
    return StaticKeyProvider.from_mapping(data, str(path))


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def write_key_file(path: Path, *, current: str = "v1") -> None:
    """Create a new key file with fresh random keys (the demo, and `generate_keys`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {
        "current": current,
        "keks": {current: new_key()},
        "blind_index": new_key(),
        "pseudonym": new_key(),
        "audit_signing_current": "a1",
        "audit_signing": {"a1": new_key()},
    }
    # Created with owner-only permissions from the start, never world-readable for a moment.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)


def demo_key_file() -> Path:
    return Path(settings.BASE_DIR) / "var" / "demo-keys.json"


def _load_provider() -> KeyProvider:
    name = os.environ.get("SKYDDSNAT_KEY_PROVIDER", "").strip()
    if name == "env" or (not name and os.environ.get("SKYDDSNAT_KEKS")):
        return environment_provider()
    if name == "file" or (not name and os.environ.get("SKYDDSNAT_KEY_FILE")):
        return file_provider()
    if name:
        provider = import_string(name)()
        return provider  # type: ignore[no-any-return]
    if settings.DEBUG:
        # The local demo only: keys of its own in var/, made on first use.
        path = demo_key_file()
        if not path.exists():
            write_key_file(path)
        return file_provider(path)
    raise ImproperlyConfigured(
        "No encryption keys are configured. Set SKYDDSNAT_KEKS (and the other key variables) or "
        "SKYDDSNAT_KEY_FILE; see deploy/env.example. `python manage.py generate_keys` makes a key file."
    )


@lru_cache(maxsize=1)
def key_provider() -> KeyProvider:
    return _load_provider()


def audit_signing_keys() -> KeyProvider:
    """What access/checkpoints.py signs and verifies checkpoints with (settings.AUDIT_SIGNING_KEYS names
    this function, so access/ needs no import of cases/)."""
    return key_provider()


def reset_key_provider() -> None:
    """Forget the loaded keys (after a rotation changed the configuration, and in tests)."""
    key_provider.cache_clear()
