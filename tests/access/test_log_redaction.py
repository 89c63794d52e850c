"""No personnummer in a log line: every handler of the project's logging redacts identity-number-shaped
digit runs, wherever they sit (a 404's path, runserver's request line, a traceback).

Goes through the logging the settings configure (not pytest's capture), so a logger that kept a
handler of its own, as Django's defaults give "django" and "django.server", would fail it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.test import Client

from access.redaction import REDACTED, looks_like_identity_number, redact_identity_numbers

NUMBERS = ["19811218-9876", "198112189876", "811218-9876", "8112189876", "19811218+9876", "811218%2D9876"]


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """Everything the configured handlers write, from every logger that has one."""
    stream = io.StringIO()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
    handlers = {handler for logger in loggers for handler in getattr(logger, "handlers", [])}
    # pytest's own capture handlers are no part of the project's logging.
    streams = [
        handler
        for handler in handlers
        if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest")
    ]
    assert streams, "the settings configure no stream handler"
    previous = [(handler, handler.setStream(stream)) for handler in streams]
    yield stream
    for handler, old in previous:
        if old is not None:
            handler.setStream(old)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_number_in_text_is_redacted(number: str) -> None:
    assert redact_identity_numbers(f"GET /arenden/?q={number}&sida=2 HTTP/1.1") == (
        f"GET /arenden/?q={REDACTED}&sida=2 HTTP/1.1"
    )


def test_other_digits_are_kept() -> None:
    # Dates, times, ids, status codes and longer runs are no identity number.
    text = "2026-12-03 12:40:13,517 GET /x/?sida=12 HTTP/1.1 404 1234 id=1234567890123 port 5432"
    assert redact_identity_numbers(text) == text


def test_a_whole_value_is_recognised() -> None:
    assert looks_like_identity_number(" 19811218-9876 ")
    assert not looks_like_identity_number("VR-7K3F-Q9")
    assert not looks_like_identity_number("anna.198112")


@pytest.mark.django_db
def test_a_404_does_not_log_the_number_in_its_path(written: io.StringIO) -> None:
    Client().get("/ingenting/19811218-9876/?q=811218-9876")
    output = written.getvalue()
    assert "Not Found" in output, "the 404 was not logged at all: the test would prove nothing"
    assert "9876" not in output
    assert REDACTED in output


@pytest.mark.parametrize("name", ["django.request", "django.server", "django", "skyddsnat", ""])
def test_every_logger_redacts(name: str, written: io.StringIO) -> None:
    logger = logging.getLogger(name)
    logger.warning('"%s" %s %s', "GET /arenden/?referens=198112189876 HTTP/1.1", 200, 512)
    try:
        raise ValueError("ingen post för 19811218-9876")
    except ValueError:
        logger.exception("failed for %s", "811218-9876")
    output = written.getvalue()
    # The message, its argument and the traceback (which also quotes the raising line).
    assert output.count(REDACTED) >= 3, output
    assert "9876" not in output
    assert "Traceback" in output
