"""Recognising identity numbers where none belongs: in a search box, and in a log line.

A personnummer or samordningsnummer is ten or twelve digits, with an optional separator (- or +)
before the last four. Typed into a field that wants a reference or a username it is refused (and not
shown back); in a log record it is replaced before the record is written.
"""

from __future__ import annotations

import logging
import re

# A whole value that is such a number (surrounding spaces allowed).
IDENTITY_NUMBER = re.compile(r"^\s*(\d{2})?\d{6}[-+]?\d{4}\s*$")
# Such a number anywhere in a text, not part of a longer run of digits. Percent-encoded separators
# (%2B, %2D) count too: paths and query strings reach the logs encoded.
IDENTITY_NUMBER_IN_TEXT = re.compile(r"(?<!\d)(?:\d{2})?\d{6}(?:[-+]|%2[BbDd])?\d{4}(?!\d)")
REDACTED = "[nummer borttaget]"


def looks_like_identity_number(value: str) -> bool:
    return bool(IDENTITY_NUMBER.match(value))


def redact_identity_numbers(text: str) -> str:
    return IDENTITY_NUMBER_IN_TEXT.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """Formats a record as usual, then replaces every identity-number-shaped run of digits: in the
    message, its arguments (a 404's path, a request line's query string) and any traceback. Used by
    every handler of the project's logging (coordination/settings.py)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_identity_numbers(super().format(record))
