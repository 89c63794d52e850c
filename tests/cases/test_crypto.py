"""AES-256-GCM envelope encryption: round trips, binding to table/column/row, loud failures."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

from cases.crypto import (
    FORMAT_V1,
    PAD_BUCKETS,
    DecryptionError,
    blind_index,
    decrypt_field,
    encrypt_field,
    is_padded,
    new_data_key,
    padded_size,
    pseudonym,
    unwrap_data_key,
    wrap_data_key,
)
from cases.keys import MissingKeyError, StaticKeyProvider, environment_provider, file_provider, write_key_file

ROW = uuid.UUID(int=7)


def provider(current: str = "a", **extra: bytes) -> StaticKeyProvider:
    keks = {"a": b"A" * 32, "b": b"B" * 32, **extra}
    return StaticKeyProvider(keks=keks, current=current, blind_index=b"I" * 32, pseudonym=b"P" * 32)


@pytest.mark.parametrize("text", ["Anna Andersson", "Åsa Öberg-Ängström", "x" * 10_000, "🛡️ line\nbreak"])
def test_a_value_round_trips(text: str) -> None:
    key = new_data_key()
    blob = encrypt_field(key, text, table="cases_person", column="name", row_id=ROW)
    assert text.encode() not in blob
    assert decrypt_field(key, blob, table="cases_person", column="name", row_id=ROW) == text


def test_the_same_value_encrypts_differently_each_time() -> None:
    key = new_data_key()
    first = encrypt_field(key, "Anna", table="t", column="c", row_id=ROW)
    second = encrypt_field(key, "Anna", table="t", column="c", row_id=ROW)
    assert first != second


def test_an_empty_value_seals_like_any_short_one_and_opens_empty() -> None:
    """An unknown birth year or a missing contact must not show in a dump as an empty column."""
    key = new_data_key()
    empty = encrypt_field(key, "", table="t", column="c", row_id=ROW)
    assert len(empty) == len(encrypt_field(key, "kvinna", table="t", column="c", row_id=ROW))
    assert decrypt_field(key, empty, table="t", column="c", row_id=ROW) == ""
    assert decrypt_field(key, b"", table="t", column="c", row_id=ROW) == ""


@pytest.mark.parametrize(
    "values",
    [
        ["kvinna", "man", "annat", ""],  # legal gender
        ["1981", "2004", ""],  # birth year
        ["Åsa Öberg", "Anna-Karin Lindqvist Johansson", "070-1234567"],
    ],
)
def test_low_entropy_values_seal_to_one_length(values: list[str]) -> None:
    """A ciphertext was the plaintext's length plus 29 bytes: the legal gender was 35, 32 or 34 bytes."""
    key = new_data_key()
    lengths = {len(encrypt_field(key, value, table="t", column="c", row_id=ROW)) for value in values}
    assert lengths == {1 + 12 + PAD_BUCKETS[0] + 16}


def test_longer_values_pad_to_their_bucket_and_a_minimum_fixes_the_size() -> None:
    key = new_data_key()
    sizes = [len(encrypt_field(key, "x" * n, table="t", column="c", row_id=ROW)) - 29 for n in (61, 200, 253)]
    assert sizes == [256, 256, 1024]
    assert padded_size(100_000) == 7 * PAD_BUCKETS[-1]
    fixed = {
        len(encrypt_field(key, "x" * n, table="t", column="c", row_id=ROW, minimum=2048)) for n in (0, 700)
    }
    assert fixed == {1 + 12 + 2048 + 16}
    assert (
        decrypt_field(
            key,
            encrypt_field(key, "å" * 300, table="t", column="c", row_id=ROW),
            table="t",
            column="c",
            row_id=ROW,
        )
        == "å" * 300
    )


def test_an_unpadded_ciphertext_of_format_1_still_opens() -> None:
    key = new_data_key()
    nonce = b"\x00" * 12
    old = (
        FORMAT_V1
        + nonce
        + AESGCM(key).encrypt(nonce, "Åsa".encode(), b"skyddsnat/field/v1|t|c|" + str(ROW).encode())
    )
    assert decrypt_field(key, old, table="t", column="c", row_id=ROW) == "Åsa"
    assert not is_padded(old) and is_padded(encrypt_field(key, "Åsa", table="t", column="c", row_id=ROW))


@pytest.mark.parametrize(
    ("table", "column", "row_id"),
    [
        ("cases_person", "contact", ROW),
        ("cases_incident", "name", ROW),
        ("cases_person", "name", uuid.UUID(int=8)),
    ],
    ids=["other column", "other table", "other row"],
)
def test_a_ciphertext_moved_elsewhere_fails_loudly(table: str, column: str, row_id: uuid.UUID) -> None:
    key = new_data_key()
    blob = encrypt_field(key, "Anna Andersson", table="cases_person", column="name", row_id=ROW)
    with pytest.raises(DecryptionError, match=f"{table}.{column} of row {row_id} does not decrypt") as error:
        decrypt_field(key, blob, table=table, column=column, row_id=row_id)
    assert "Anna" not in str(error.value)


def test_a_wrong_data_key_or_a_flipped_bit_fails() -> None:
    key = new_data_key()
    blob = encrypt_field(key, "Anna", table="t", column="c", row_id=ROW)
    with pytest.raises(DecryptionError):
        decrypt_field(new_data_key(), blob, table="t", column="c", row_id=ROW)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt_field(key, tampered, table="t", column="c", row_id=ROW)
    with pytest.raises(DecryptionError, match="not a Skyddsnät ciphertext"):
        decrypt_field(key, b"plain text", table="t", column="c", row_id=ROW)


def test_data_keys_are_wrapped_with_the_current_version_and_bound_to_their_case() -> None:
    keys = provider(current="b")
    data_key = new_data_key()
    version, wrapped = wrap_data_key(data_key, case_id=ROW, provider=keys)
    assert version == "b"
    assert data_key not in wrapped
    assert unwrap_data_key(wrapped, version="b", case_id=ROW, provider=keys) == data_key
    with pytest.raises(DecryptionError):
        unwrap_data_key(wrapped, version="b", case_id=uuid.UUID(int=99), provider=keys)
    with pytest.raises(DecryptionError):
        unwrap_data_key(wrapped, version="a", case_id=ROW, provider=keys)


def test_a_retired_key_version_is_a_clear_error() -> None:
    old = provider(current="a")
    _version, wrapped = wrap_data_key(new_data_key(), case_id=ROW, provider=old)
    retired = StaticKeyProvider(
        keks={"b": b"B" * 32}, current="b", blind_index=b"I" * 32, pseudonym=b"P" * 32
    )
    with pytest.raises(MissingKeyError, match="version 'a' is not configured"):
        unwrap_data_key(wrapped, version="a", case_id=ROW, provider=retired)


def test_blind_index_and_pseudonym_are_keyed() -> None:
    one, other = (
        provider(),
        StaticKeyProvider(keks={"a": b"A" * 32}, current="a", blind_index=b"J" * 32, pseudonym=b"Q" * 32),
    )
    assert blind_index("198112189876", provider=one) == blind_index("198112189876", provider=one)
    assert blind_index("198112189876", provider=one) != blind_index("198112189876", provider=other)
    assert "198112189876" not in blind_index("198112189876", provider=one)
    assert pseudonym(ROW, provider=one) != pseudonym(ROW, provider=other)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_the_environment_provider_reads_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKYDDSNAT_KEKS", f"2025:{b64(b'1' * 32)}, 2026:{b64(b'2' * 32)}")
    monkeypatch.setenv("SKYDDSNAT_KEK_CURRENT", "2026")
    monkeypatch.setenv("SKYDDSNAT_BLIND_INDEX_KEY", b64(b"3" * 32))
    monkeypatch.setenv("SKYDDSNAT_PSEUDONYM_KEY", b64(b"4" * 32))
    keys = environment_provider()
    assert keys.current_kek_version() == "2026"
    assert keys.kek_versions() == ["2025", "2026"]
    assert keys.kek("2025") == b"1" * 32


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SKYDDSNAT_KEKS", "v1-without-colon", "must look like"),
        ("SKYDDSNAT_KEKS", "v1:not*base64", "not valid base64"),
        ("SKYDDSNAT_KEKS", f"v1:{b64(b'short')}", "must be 32 bytes"),
        ("SKYDDSNAT_KEK_CURRENT", "v9", "current key version 'v9' has no key"),
        ("SKYDDSNAT_BLIND_INDEX_KEY", b64(b"1" * 32), "must be different"),
    ],
)
def test_bad_key_configuration_is_refused_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv("SKYDDSNAT_KEKS", f"v1:{b64(b'1' * 32)}")
    monkeypatch.setenv("SKYDDSNAT_KEK_CURRENT", "v1")
    monkeypatch.setenv("SKYDDSNAT_BLIND_INDEX_KEY", b64(b"3" * 32))
    monkeypatch.setenv("SKYDDSNAT_PSEUDONYM_KEY", b64(b"4" * 32))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        environment_provider()


def test_a_key_file_is_private_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_key_file(path, current="k1")
    assert path.stat().st_mode & 0o777 == 0o600
    keys = file_provider(path)
    assert keys.current_kek_version() == "k1"
    with pytest.raises(FileExistsError):
        write_key_file(path)
    path.write_text(json.dumps({"keks": {}}))
    with pytest.raises(ImproperlyConfigured, match="'keks' must map"):
        file_provider(path)
