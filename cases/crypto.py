"""Envelope encryption for case data: AES-256-GCM with one data key per case.

- Each case has a random 256-bit data key. It is stored only wrapped (AES-256-GCM) by a key-encryption
  key (KEK) from the key provider, together with that KEK's version; rotation re-wraps data keys and
  never touches field ciphertexts.
- Each field value is encrypted with the case's data key and a fresh 96-bit nonce. The associated data
  binds the ciphertext to its table, column and row, so a ciphertext copied to another row or column
  fails to decrypt instead of showing the wrong person's data.
- Destroying a case's wrapped data key makes every ciphertext of that case unreadable for good,
  backups included (crypto-shredding, used by gallring).

Errors never carry plaintext: they name the table, column and row, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cases.keys import KeyProvider, key_provider

FORMAT_V1 = b"\x01"
FORMAT_V2 = b"\x02"
NONCE_BYTES = 12
DATA_KEY_BYTES = 32


class DecryptionError(Exception):
    """A ciphertext could not be authenticated: wrong key, wrong place, or tampered with."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def _wrap_aad(case_id: uuid.UUID, version: str) -> bytes:
    return b"skyddsnat/data-key/v1|" + case_id.bytes + b"|" + version.encode("utf-8")


def wrap_data_key(
    data_key: bytes, *, case_id: uuid.UUID, provider: KeyProvider | None = None
) -> tuple[str, bytes]:
    """Wrap ``data_key`` with the current KEK. Returns (kek version, nonce + ciphertext)."""
    provider = provider or key_provider()
    version = provider.current_kek_version()
    nonce = os.urandom(NONCE_BYTES)
    wrapped = AESGCM(provider.kek(version)).encrypt(nonce, data_key, _wrap_aad(case_id, version))
    return version, nonce + wrapped


def unwrap_data_key(
    wrapped: bytes, *, version: str, case_id: uuid.UUID, provider: KeyProvider | None = None
) -> bytes:
    provider = provider or key_provider()
    kek = provider.kek(version)
    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(case_id, version))
    except InvalidTag:
        raise DecryptionError(
            f"The data key of case {case_id} does not open with key-encryption key {version!r}."
        ) from None


def _field_aad(table: str, column: str, row_id: uuid.UUID | str) -> bytes:
    return f"skyddsnat/field/v1|{table}|{column}|{row_id}".encode()


# Padded sizes of a plaintext (length prefix included), smallest first; beyond the last, whole multiples of
# it. A ciphertext's length then tells only its bucket: a legal gender, a birth year, a name or an empty
# value all seal to the same 64 bytes, so no length says which code, or whether a value is there at all.
PAD_BUCKETS = (64, 256, 1024, 4096, 16384)
_LENGTH_PREFIX = 4


def padded_size(length: int, minimum: int = 0) -> int:
    """The size ``length`` bytes of plaintext pad to (with the length prefix): exactly ``minimum`` when
    they fit in it (a fixed size), else the smallest bucket that holds them."""
    needed = length + _LENGTH_PREFIX
    if needed <= minimum:
        return minimum
    for bucket in PAD_BUCKETS:
        if needed <= bucket:
            return bucket
    step = PAD_BUCKETS[-1]
    return -(-needed // step) * step


def _pad(data: bytes, minimum: int) -> bytes:
    size = padded_size(len(data), minimum)
    return len(data).to_bytes(_LENGTH_PREFIX, "big") + data + bytes(size - _LENGTH_PREFIX - len(data))


def _unpad(padded: bytes, where: str) -> bytes:
    length = int.from_bytes(padded[:_LENGTH_PREFIX], "big")
    if length > len(padded) - _LENGTH_PREFIX:
        raise DecryptionError(f"{where} has a broken padding.")
    return padded[_LENGTH_PREFIX : _LENGTH_PREFIX + length]


def encrypt_field(
    data_key: bytes,
    plaintext: str,
    *,
    table: str,
    column: str,
    row_id: uuid.UUID | str,
    minimum: int = 0,
) -> bytes:
    """Encrypt one value, padded to its bucket (``PAD_BUCKETS``, at least ``minimum`` bytes): the empty
    string too, so that a dump cannot tell an unknown birth year or a missing contact from a given one.
    Format 2: version byte, nonce, AES-GCM of the padded plaintext."""
    nonce = os.urandom(NONCE_BYTES)
    padded = _pad(plaintext.encode("utf-8"), minimum)
    return FORMAT_V2 + nonce + AESGCM(data_key).encrypt(nonce, padded, _field_aad(table, column, row_id))


def decrypt_field(data_key: bytes, blob: bytes, *, table: str, column: str, row_id: uuid.UUID | str) -> str:
    """Open a value of either format: 2 (padded), or 1 (unpadded, written before padding; ``manage.py
    reseal_fields`` rewrites those). The empty blob is the empty string."""
    blob = bytes(blob)
    if blob == b"":
        return ""
    where = f"{table}.{column} of row {row_id}"
    if blob[:1] not in (FORMAT_V1, FORMAT_V2) or len(blob) < 1 + NONCE_BYTES + 16:
        raise DecryptionError(f"{where} is not a Skyddsnät ciphertext.")
    nonce, ciphertext = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        plaintext = AESGCM(data_key).decrypt(nonce, ciphertext, _field_aad(table, column, row_id))
    except InvalidTag:
        raise DecryptionError(f"{where} does not decrypt: wrong key, moved or altered.") from None
    if blob[:1] == FORMAT_V2:
        plaintext = _unpad(plaintext, where)
    return plaintext.decode("utf-8")


def is_padded(blob: bytes) -> bool:
    """Whether a stored ciphertext is already in the padded format (or empty: nothing to rewrite)."""
    return bytes(blob[:1]) in (b"", FORMAT_V2)


def normalise_personnummer(value: str) -> str:
    """Digits only, 12 of them (century included), so every spelling of one number indexes alike."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())


def blind_index(value: str, *, provider: KeyProvider | None = None) -> str:
    """Keyed HMAC-SHA256 for exact-match lookup; without the key it reveals nothing about the value."""
    provider = provider or key_provider()
    return hmac.new(provider.blind_index_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonym(case_id: uuid.UUID, *, provider: KeyProvider | None = None) -> str:
    """A stable keyed pseudonym for a case's statistics record: links to the case only with the key."""
    provider = provider or key_provider()
    return hmac.new(provider.pseudonym_key(), b"statistics|" + case_id.bytes, hashlib.sha256).hexdigest()
