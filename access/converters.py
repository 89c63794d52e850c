"""Path converters for the values that travel in URLs, so a malformed one is "not found" before any
view or query sees it. A NUL byte, for one, is a 500 on PostgreSQL (text cannot hold it) wherever a
plain ``str`` segment reached a filter.

Registered once, by AccessConfig.ready(), under the names the URL modules use.
"""

from __future__ import annotations

from django.urls import register_converter


class _Text:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class CaseReferenceConverter(_Text):
    """A case reference (VR-7K3F-Q9; at most 16 characters, the column's length)."""

    regex = r"[A-Za-z0-9-]{1,16}"


class TrailReferenceConverter(_Text):
    """What the audit trail names objects by: case references, agency codes, UUIDs (as the granskare's
    search takes them, access/compliance/forms.py)."""

    regex = r"[A-Za-z0-9_.-]{1,64}"


class UsernameConverter(_Text):
    """A username as Django's validator allows it (letters, digits and @.+-_), at most 150 characters."""

    regex = r"[\w.@+-]{1,150}"


class TokenConverter(_Text):
    """An enrolment link's secret (URL-safe base64)."""

    regex = r"[A-Za-z0-9_-]{1,128}"


class FileFormatConverter(_Text):
    """A download's format code (csv, pdf); the view knows which it offers."""

    regex = r"[a-z]{1,8}"


CONVERTERS = {
    "file_format": FileFormatConverter,
    "case": CaseReferenceConverter,
    "trail_reference": TrailReferenceConverter,
    "username": UsernameConverter,
    "token": TokenConverter,
}


def register() -> None:
    for name, converter in CONVERTERS.items():
        register_converter(converter, name)
