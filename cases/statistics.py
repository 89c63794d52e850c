"""The countable copy of the cases, sealed in one block per half-year (issue 13).

The nulägesbild counts categories (flags, forms of violence, HRV, measures, risk) that a dump must never
tie to a case. A row per case, however pseudonymous, was tied back: by the plaintext columns it shares
with the case (periods, risk level, measures), by its length and by its place in the table. So there is
no row per case. Every case's values (``StatisticsValues``) are packed into fixed-size records, and the
records of all cases opened in one half-year are kept sorted by their keyed pseudonym in one block,
sealed with AES-256-GCM under a key derived from the pseudonym key (the key provider, never the
database). What a dump shows is one opaque block per half-year whose length says how many cases were
opened then, which the cases' own ``opened_on`` says anyway.

A case's record is rewritten in the transaction that changes the case (``store``), under a row lock
on its block, so the counts never drift from the cases; gallring removes it (``remove``). The
nulägesbild reads the blocks of every half-year up to the period's end, opens them and counts in
memory (coordination/nulagesbild/aggregate.py); nothing of a case is decrypted for it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import uuid
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction

from cases.choices import AgeBand, LegalGender, RiskLevel
from cases.crypto import pseudonym
from cases.keys import KeyProvider, key_provider
from cases.models import StatisticsBlock

# The closed half-year of a case still open (as COALESCE(closed_period, ...) was in SQL).
STILL_OPEN = 0
_FORMAT = b"\x01"
_NONCE = 12
PSEUDONYM_BYTES = 16

# The codes stored for the choice fields, by position. Only ever append to these tuples: a stored block
# keeps the positions it was written with.
GENDER_CODES: tuple[str, ...] = (LegalGender.WOMAN, LegalGender.MAN, LegalGender.OTHER)
AGE_CODES: tuple[str, ...] = (
    AgeBand.CHILD,
    AgeBand.YOUNG,
    AgeBand.ADULT,
    AgeBand.MIDDLE,
    AgeBand.ELDERLY,
    AgeBand.UNKNOWN,
)
RISK_CODES: tuple[str, ...] = ("", RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)

# pseudonym, closed period, gender, age band, six masks, risk level, assessments, repeat, children
_RECORD = struct.Struct(">16sIBB6IBHBB")
RECORD_BYTES = _RECORD.size


class StatisticsError(Exception):
    """A block does not open or holds what no record can be; the message names the half-year only."""


class StatisticsValues(NamedTuple):
    """What the nulägesbild counts of one case. Field names are those the nulägesbild's measures use
    (coordination/nulagesbild/tables.py)."""

    closed_period: int | None
    legal_gender: str
    age_band: str
    context_mask: int = 0
    form_mask: int = 0
    honour_mask: int = 0
    relation_mask: int = 0
    flag_mask: int = 0
    measure_mask: int = 0
    risk_level: str = ""
    risk_assessment_count: int = 0
    repeat_victimisation: bool = False
    child_count: int = 0


def _key(provider: KeyProvider | None = None) -> bytes:
    provider = provider or key_provider()
    return hmac.new(provider.pseudonym_key(), b"skyddsnat/statistics-block/v1", hashlib.sha256).digest()


def record_pseudonym(case_id: uuid.UUID, *, provider: KeyProvider | None = None) -> bytes:
    """The keyed pseudonym a case's record is found by: nobody without the key can compute it."""
    return bytes.fromhex(pseudonym(case_id, provider=provider))[:PSEUDONYM_BYTES]


def _aad(period: int) -> bytes:
    return f"skyddsnat/statistics/v1|{period}".encode()


def _code(codes: tuple[str, ...], value: str, what: str) -> int:
    try:
        return codes.index(value)
    except ValueError:
        raise StatisticsError(f"{what} {value!r} is not one the statistics can hold.") from None


def pack(pseudonym_bytes: bytes, values: StatisticsValues) -> bytes:
    gender = values.legal_gender if values.legal_gender in GENDER_CODES else LegalGender.OTHER
    return _RECORD.pack(
        pseudonym_bytes,
        values.closed_period if values.closed_period is not None else STILL_OPEN,
        _code(GENDER_CODES, gender, "legal gender"),
        _code(AGE_CODES, values.age_band, "age band"),
        values.context_mask,
        values.form_mask,
        values.honour_mask,
        values.relation_mask,
        values.flag_mask,
        values.measure_mask,
        _code(RISK_CODES, values.risk_level, "risk level"),
        min(values.risk_assessment_count, 0xFFFF),
        1 if values.repeat_victimisation else 0,
        min(values.child_count, 0xFF),
    )


def unpack(record: bytes) -> tuple[bytes, StatisticsValues]:
    (pseudonym_bytes, closed, gender, age, c, f, h, r, fl, m, risk, count, repeat, children) = _RECORD.unpack(
        record
    )
    return pseudonym_bytes, StatisticsValues(
        closed_period=None if closed == STILL_OPEN else closed,
        legal_gender=GENDER_CODES[gender],
        age_band=AGE_CODES[age],
        context_mask=c,
        form_mask=f,
        honour_mask=h,
        relation_mask=r,
        flag_mask=fl,
        measure_mask=m,
        risk_level=RISK_CODES[risk],
        risk_assessment_count=count,
        repeat_victimisation=bool(repeat),
        child_count=children,
    )


def _open(block: StatisticsBlock, key: bytes) -> dict[bytes, bytes]:
    """The block's records by pseudonym (raw, still packed)."""
    content = _content(block, key)
    records = (content[i : i + RECORD_BYTES] for i in range(0, len(content), RECORD_BYTES))
    return {record[:PSEUDONYM_BYTES]: record for record in records}


def _content(block: StatisticsBlock, key: bytes) -> bytes:
    """The block's records, decrypted, one after the other (each pseudonym once: seal_block writes
    them from a mapping)."""
    blob = bytes(block.records_sealed)
    if not blob:
        return b""
    if blob[:1] != _FORMAT or len(blob) < 1 + _NONCE + 16:
        raise StatisticsError(f"The statistics block of half-year {block.period} is not one Skyddsnät wrote.")
    try:
        content = AESGCM(key).decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], _aad(block.period))
    except InvalidTag:
        raise StatisticsError(
            f"The statistics block of half-year {block.period} does not open: wrong key or altered."
        ) from None
    if len(content) % RECORD_BYTES:
        raise StatisticsError(f"The statistics block of half-year {block.period} is cut short.")
    return content


def seal_block(block: StatisticsBlock, records: dict[bytes, bytes]) -> None:
    """Seal packed ``records`` (by pseudonym) into ``block`` (the migration from per-case rows)."""
    _seal(block, records, _key())


def _seal(block: StatisticsBlock, records: dict[bytes, bytes], key: bytes) -> None:
    # Sorted by pseudonym: the order inside says nothing about which case came first.
    content = b"".join(records[name] for name in sorted(records))
    nonce = os.urandom(_NONCE)
    block.records_sealed = _FORMAT + nonce + AESGCM(key).encrypt(nonce, content, _aad(block.period))


def _locked_block(period: int) -> StatisticsBlock:
    StatisticsBlock.objects.get_or_create(period=period, defaults={"records_sealed": b""})
    return StatisticsBlock.objects.select_for_update().get(period=period)


@transaction.atomic
def store(case_id: uuid.UUID, opened_period: int, values: StatisticsValues) -> None:
    """Write (or rewrite) the case's record into the block of the half-year it was opened in."""
    key = _key()
    block = _locked_block(opened_period)
    records = _open(block, key)
    name = record_pseudonym(case_id)
    records[name] = pack(name, values)
    _seal(block, records, key)
    block.save(update_fields=["records_sealed"])


@transaction.atomic
def remove(case_id: uuid.UUID, opened_period: int) -> bool:
    """Take the case's record out of its block (gallring). True when there was one."""
    key = _key()
    block = StatisticsBlock.objects.select_for_update().filter(period=opened_period).first()
    if block is None:
        return False
    records = _open(block, key)
    if records.pop(record_pseudonym(case_id), None) is None:
        return False
    _seal(block, records, key)
    block.save(update_fields=["records_sealed"])
    return True


def open_block(block: StatisticsBlock) -> Iterator[tuple[bytes, StatisticsValues]]:
    """(pseudonym, values) of every record in ``block`` (the migration back to rows)."""
    for record in _open(block, _key()).values():
        yield unpack(record)


def values_of(case_id: uuid.UUID, opened_period: int) -> StatisticsValues | None:
    """The case's record, for the keyholder (tests, the reconciliation)."""
    block = StatisticsBlock.objects.filter(period=opened_period).first()
    if block is None:
        return None
    record = _open(block, _key()).get(record_pseudonym(case_id))
    return unpack(record)[1] if record is not None else None


def records_up_to(last_period: int) -> Iterator[tuple[int, StatisticsValues]]:
    """(opened half-year, values) of every case opened up to ``last_period``, block by block."""
    key = _key()
    for block in StatisticsBlock.objects.filter(period__lte=last_period).order_by("period").iterator():
        for record in _open(block, key).values():
            yield block.period, unpack(record)[1]


# The record layout (_RECORD) as a NumPy structured type, field for field, named as StatisticsValues
# names them: counting a million records is then a few array operations, not a million unpackings.
# The choice fields hold their codes (GENDER_CODES, AGE_CODES, RISK_CODES) and a closed period of
# STILL_OPEN means still open.
RECORD_DTYPE = np.dtype(
    [
        ("pseudonym", "S16"),
        ("closed_period", ">u4"),
        ("legal_gender", "u1"),
        ("age_band", "u1"),
        ("context_mask", ">u4"),
        ("form_mask", ">u4"),
        ("honour_mask", ">u4"),
        ("relation_mask", ">u4"),
        ("flag_mask", ">u4"),
        ("measure_mask", ">u4"),
        ("risk_level", "u1"),
        ("risk_assessment_count", ">u2"),
        ("repeat_victimisation", "u1"),
        ("child_count", "u1"),
    ]
)
if RECORD_DTYPE.itemsize != RECORD_BYTES:
    raise ImportError("cases/statistics.py: RECORD_DTYPE and _RECORD describe different records.")


def arrays_up_to(last_period: int) -> Iterator[tuple[int, np.ndarray]]:
    """(opened half-year, its records as an array of RECORD_DTYPE) for every block up to
    ``last_period``."""
    key = _key()
    for block in StatisticsBlock.objects.filter(period__lte=last_period).order_by("period").iterator():
        yield block.period, np.frombuffer(_content(block, key), dtype=RECORD_DTYPE)


def record_count() -> int:
    """How many cases the blocks hold (their sizes say it; nothing is opened)."""
    total = 0
    for blob in StatisticsBlock.objects.values_list("records_sealed", flat=True):
        size = len(bytes(blob))
        total += (size - 1 - _NONCE - 16) // RECORD_BYTES if size else 0
    return total


@transaction.atomic
def bulk_add(rows: Iterable[tuple[bytes, int, StatisticsValues]]) -> int:
    """Add many (pseudonym, opened half-year, values) records at once (the benchmark, the tests): packed
    as they come, then one rewrite per block touched. Returns how many were added."""
    key = _key()
    by_period: dict[int, dict[bytes, bytes]] = {}
    added = 0
    for name, period, values in rows:
        by_period.setdefault(period, {})[name] = pack(name, values)
        added += 1
    for period, packed in by_period.items():
        block = _locked_block(period)
        records = _open(block, key)
        records.update(packed)
        _seal(block, records, key)
        block.save(update_fields=["records_sealed"])
    return added
