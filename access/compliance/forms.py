"""The granskare's forms: the search of the trail, the review period and the export. They validate in
Swedish and hand plain values to access.compliance.queries; none of them touches the database beyond
the lists it offers."""

from __future__ import annotations

import datetime
import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from access.compliance.labels import action_label
from access.compliance.queries import EventFilters, action_prefixes
from access.redaction import looks_like_identity_number

# Letters, digits and a few separators, with at least one letter: every reference the system makes
# (VR-7K3F-Q9, agency codes, UUIDs), and never a personnummer.
REFERENCE = re.compile(r"^(?=.*[A-Z])[A-Z0-9_.\-]{1,64}$")
# The same rule for the browser, which then refuses to send anything else (no script needed).
REFERENCE_PATTERN = r"[A-Za-z0-9_.\-]*[A-Za-z][A-Za-z0-9_.\-]*"
# Any username but one shaped like a personnummer (IDENTITY_NUMBER of access/redaction.py).
USERNAME_PATTERN = r"(?!\s*(\d{2})?\d{6}[+\-]?\d{4}\s*$).*"
IDENTITY_NUMBER_REFUSED = _(
    "Det ser ut som ett personnummer. Granskningsloggen söks på användare, myndighet och ärendereferens, "
    "aldrig på personnummer."
)
DATE_INVALID = _("Ange datumet som ÅÅÅÅ-MM-DD.")
# Longer periods are a search, not a review: the aggregates would read a year of the trail at once.
LONGEST_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        # type="date" needs ISO dates in the value attribute, whatever the language.
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_INVALID},
    )


def clean_reference(value: str) -> str:
    """A reference as the trail stores case references (upper case), or ValidationError."""
    if looks_like_identity_number(value):
        raise ValidationError(IDENTITY_NUMBER_REFUSED, code="identity_number")
    normalised = value.strip().upper()
    if not REFERENCE.match(normalised):
        raise ValidationError(
            _("Ange en referens med bokstäver, siffror och bindestreck, till exempel VR-7K3F-Q9."),
            code="reference",
        )
    return normalised


def _check_order(cleaned: dict[str, Any], form: forms.Form) -> None:
    start: datetime.date | None = cleaned.get("fran")
    end: datetime.date | None = cleaned.get("till")
    if start is not None and end is not None and start > end:
        form.add_error("till", _("Till-datumet kan inte ligga före från-datumet."))


class EventSearchForm(forms.Form):
    """Bound to the query string: every field may be left empty, and an empty form is the newest
    events of the granskare's scope."""

    anvandare = forms.CharField(
        label=_("Användare"),
        required=False,
        max_length=150,
        help_text=_("Användarnamnet, exakt."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "pattern": USERNAME_PATTERN}
        ),
    )
    myndighet = forms.ChoiceField(
        label=_("Myndighet"),
        required=False,
        help_text=_("Myndigheten som användaren agerade för."),
        error_messages={"invalid_choice": _("Välj en myndighet i listan.")},
    )
    referens = forms.CharField(
        label=_("Ärendereferens"),
        required=False,
        max_length=64,
        help_text=_("Exakt referens, till exempel VR-7K3F-Q9."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "pattern": REFERENCE_PATTERN}
        ),
    )
    handelse = forms.ChoiceField(
        label=_("Händelse"),
        required=False,
        error_messages={"invalid_choice": _("Välj en händelse i listan.")},
    )
    fran = _date_field(_("Från och med"))
    till = _date_field(_("Till och med"))

    def __init__(
        self, data: Any = None, *, agencies: dict[str, str], actions: list[str], **kwargs: Any
    ) -> None:
        # A personnummer typed into a field is refused and, unlike other bad input, not shown back:
        # the page could be kept by the browser, printed or screenshotted.
        self.refused_numbers: set[str] = set()
        if data is not None:
            data = data.copy()
            for name in ("anvandare", "referens"):
                if looks_like_identity_number(data.get(name, "")):
                    data[name] = ""
                    self.refused_numbers.add(name)
        super().__init__(data, **kwargs)
        cast(forms.ChoiceField, self.fields["myndighet"]).choices = [
            ("", gettext("Alla myndigheter"))
        ] + sorted(((code, f"{name} ({code})") for code, name in agencies.items()), key=lambda item: item[1])
        families = [
            (prefix, gettext("Alla som börjar med %(prefix)s") % {"prefix": prefix})
            for prefix in action_prefixes(actions)
        ]
        single = [
            (action, action if action_label(action) == action else f"{action_label(action)} ({action})")
            for action in actions
        ]
        cast(forms.ChoiceField, self.fields["handelse"]).choices = [
            ("", gettext("Alla händelser")),
            (gettext("Grupper"), families),
            (gettext("Enskilda händelser"), single),
        ]

    def clean_anvandare(self) -> str:
        if "anvandare" in self.refused_numbers:
            raise ValidationError(IDENTITY_NUMBER_REFUSED, code="identity_number")
        value: str = self.cleaned_data["anvandare"].strip()
        return value

    def clean_referens(self) -> str:
        if "referens" in self.refused_numbers:
            raise ValidationError(IDENTITY_NUMBER_REFUSED, code="identity_number")
        value: str = self.cleaned_data["referens"]
        return clean_reference(value) if value.strip() else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_order(cleaned, self)
        return cleaned

    def filters(self) -> EventFilters:
        data = self.cleaned_data
        return EventFilters(
            username=data["anvandare"],
            agency=data["myndighet"],
            reference=data["referens"],
            action=data["handelse"],
            date_from=data["fran"],
            date_to=data["till"],
        )


class PeriodForm(forms.Form):
    """The period of the proactive review; the last 30 days unless chosen."""

    fran = _date_field(_("Från och med"))
    till = _date_field(_("Till och med"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_order(cleaned, self)
        start, end = cleaned.get("fran"), cleaned.get("till")
        if start is not None and end is not None and (end - start).days >= LONGEST_PERIOD_DAYS:
            self.add_error("fran", _("Perioden får vara högst ett år."))
        return cleaned

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The chosen days, both included."""
        end: datetime.date = self.cleaned_data.get("till") or timezone.localdate()
        start: datetime.date = self.cleaned_data.get("fran") or end - datetime.timedelta(
            days=DEFAULT_PERIOD_DAYS - 1
        )
        return start, end


# Why an audit report leaves the system. A fixed list, not free text: the reason is stored in the
# trail in plain text, and a free text could carry a name.
EXPORT_REASONS = [
    ("egenkontroll", _("Egenkontroll och regelbunden granskning")),
    ("registerutdrag", _("Begäran om registerutdrag från den registrerade")),
    ("misstankt_obehorig", _("Utredning av misstänkt obehörig åtkomst")),
    ("tillsyn", _("Tillsyn (till exempel IVO eller IMY)")),
]
EXPORT_FORMATS = [("csv", "CSV"), ("pdf", "PDF")]


class ExportForm(forms.Form):
    grund = forms.ChoiceField(
        label=_("Skäl till exporten"),
        choices=[("", _("Välj skäl"))] + EXPORT_REASONS,
        error_messages={
            "required": _("Välj skälet till exporten."),
            "invalid_choice": _("Välj ett skäl i listan."),
        },
    )
    format = forms.ChoiceField(
        choices=EXPORT_FORMATS,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Välj CSV eller PDF."),
            "invalid_choice": _("Välj CSV eller PDF."),
        },
    )
