"""Identity numbers: validated with clear Swedish errors and normalised to one spelling."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from cases.identity import birth_year_from, luhn_check_digit, normalise_identity_number

TODAY = datetime.date(2026, 11, 22)


@pytest.mark.parametrize(
    "written",
    ["198112189876", "19811218-9876", "811218-9876", "8112189876", " 811218 - 9876 "],
)
def test_every_spelling_of_a_personnummer_normalises_alike(written: str) -> None:
    assert normalise_identity_number(written, "personnummer", today=TODAY) == "198112189876"


def test_a_plus_sign_means_a_hundred_years_or_older() -> None:
    assert normalise_identity_number("121212+1212", "personnummer", today=TODAY) == "191212121212"
    assert normalise_identity_number("121212-1212", "personnummer", today=TODAY) == "201212121212"


def test_a_samordningsnummer_has_sixty_added_to_the_day() -> None:
    check = luhn_check_digit("701063123")
    number = f"701063-123{check}"
    assert normalise_identity_number(number, "samordningsnummer", today=TODAY) == f"19701063123{check}"
    with pytest.raises(ValidationError, match="ökad med 60"):
        normalise_identity_number("811218-9876", "samordningsnummer", today=TODAY)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("811218-9875", "Kontrollsiffran stämmer inte"),
        ("811318-9876", "Datumet i numret finns inte"),
        ("811298-9876", "samordningsnummer"),
        ("8112", "ÅÅÅÅMMDD-NNNN"),
        ("abcdefghij", "ÅÅÅÅMMDD-NNNN"),
        ("20301218-9873", "framtiden"),
    ],
)
def test_bad_numbers_get_a_clear_swedish_error(written: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        normalise_identity_number(written, "personnummer", today=TODAY)


def test_reservnummer_are_kept_as_written_without_a_check_digit() -> None:
    assert normalise_identity_number("ab 12-34", "reservnummer", today=TODAY) == "AB12-34"
    with pytest.raises(ValidationError, match="4–20"):
        normalise_identity_number("!!", "reservnummer", today=TODAY)


def test_no_number_means_no_number() -> None:
    assert normalise_identity_number("", "saknas", today=TODAY) == ""
    with pytest.raises(ValidationError):
        normalise_identity_number("811218-9876", "saknas", today=TODAY)


def test_birth_year_comes_from_personnummer_only() -> None:
    assert birth_year_from("198112189876", "personnummer") == 1981
    assert birth_year_from("AB12-34", "reservnummer") is None
