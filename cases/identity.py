"""Swedish identity numbers: personnummer, samordningsnummer and reservnummer.

Personnummer and samordningsnummer are validated (date, Luhn check digit) and normalised to twelve
digits, YYYYMMDDNNNC, so that every spelling of one number gives the same blind index. Reservnummer
differ between regions and carry no check digit; they are kept as written, upper-cased, without spaces.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cases.choices import IdentityNumberKind

_PATTERN = re.compile(r"^(?P<century>\d{2})?(?P<date>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$")


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def normalise_identity_number(value: str, kind: str, *, today: datetime.date | None = None) -> str:
    """Return the canonical form of ``value`` or raise ValidationError with a Swedish message."""
    raw = "".join(value.split())
    if kind == IdentityNumberKind.NONE:
        if raw:
            raise ValidationError(_("Välj vilken sorts nummer det är, eller lämna fältet tomt."))
        return ""
    if kind == IdentityNumberKind.RESERVNUMMER:
        if not re.fullmatch(r"[0-9A-Za-z\-]{4,20}", raw):
            raise ValidationError(_("Ett reservnummer består av 4–20 siffror och bokstäver."))
        return raw.upper()
    match = _PATTERN.match(raw)
    if not match:
        raise ValidationError(_("Skriv numret som ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN (tio eller tolv siffror)."))
    today = today or datetime.date.today()  # noqa: DTZ011 - a birth date has no time zone
    date_digits = match["date"]
    year2, month, day = int(date_digits[:2]), int(date_digits[2:4]), int(date_digits[4:6])
    if kind == IdentityNumberKind.SAMORDNINGSNUMMER:
        if day <= 60:
            raise ValidationError(_("I ett samordningsnummer är dagen ökad med 60 (61–91)."))
        day -= 60
    elif day > 31:
        raise ValidationError(_("Dagen kan inte vara över 31. Är det ett samordningsnummer?"))
    if match["century"]:
        year = int(match["century"] + date_digits[:2])
    else:
        # Ten digits: the most recent matching year, or a century earlier when written with '+'.
        year = today.year - (today.year - year2) % 100
        if match["sep"] == "+":
            year -= 100
    try:
        birth = datetime.date(year, month, day)
    except ValueError:
        raise ValidationError(_("Datumet i numret finns inte.")) from None
    if birth > today:
        raise ValidationError(_("Födelsedatumet i numret ligger i framtiden."))
    nine = date_digits + match["serial"]
    if luhn_check_digit(nine) != int(match["check"]):
        raise ValidationError(_("Kontrollsiffran stämmer inte. Kontrollera numret."))
    return f"{year:04d}{date_digits[2:]}{match['serial']}{match['check']}"


def birth_year_from(normalised: str, kind: str) -> int | None:
    if (
        kind in (IdentityNumberKind.PERSONNUMMER, IdentityNumberKind.SAMORDNINGSNUMMER)
        and len(normalised) == 12
    ):
        return int(normalised[:4])
    return None
