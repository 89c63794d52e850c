"""The one choice a chef makes: which period. No other filter exists (tables.py says why)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordination.nulagesbild.periods import FIRST_YEAR, Period

WHOLE_YEAR = "helar"
HALVES = [
    (WHOLE_YEAR, _("Hela året")),
    ("1", _("Första halvåret (januari–juni)")),
    ("2", _("Andra halvåret (juli–december)")),
]
# Years offered: from the first year Skyddsnät can hold data up to this one.
YEARS_SHOWN = 12


def today() -> datetime.date:
    return timezone.localdate()


def year_choices() -> list[tuple[str, str]]:
    this_year = today().year
    first = max(FIRST_YEAR, this_year - YEARS_SHOWN + 1)
    return [(str(year), str(year)) for year in range(this_year, first - 1, -1)]


class PeriodForm(forms.Form):
    year = forms.TypedChoiceField(label=_("År"), coerce=int, choices=year_choices)
    half = forms.ChoiceField(label=_("Period"), choices=HALVES, initial=WHOLE_YEAR, widget=forms.RadioSelect)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "year" in cleaned and "half" in cleaned:
            half = None if cleaned["half"] == WHOLE_YEAR else int(cleaned["half"])
            period = Period(cleaned["year"], half)
            if period.starts_on > today():
                raise forms.ValidationError(_("Perioden har inte börjat än. Välj en period som har börjat."))
            cleaned["period"] = period
        return cleaned
