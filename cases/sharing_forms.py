"""The forms of disclosure and emergency access. Like cases/forms.py they validate in Swedish and hand
plain values to the actions in cases.sharing, which check everything again; saying it here keeps what
the user typed and points at the field to fix."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from access.models import Agency, Membership
from cases.choices import DisclosureEnd, IdentityNumberKind, InformationCategory, LegalBasis
from cases.forms import SEARCHABLE_KINDS
from cases.identity import normalise_identity_number
from cases.models import Case, Disclosure
from cases.sharing import consent_refusals

# Shown beside each legal basis, so whoever discloses sees what the basis requires.
BASIS_EXPLANATIONS: dict[str, Promise] = {
    LegalBasis.CONSENT: _(
        "Personen har själv samtyckt till att just de valda uppgifterna lämnas till mottagaren. "
        "Samtycket gäller till ett slutdatum och kan återkallas när som helst."
    ),
    LegalBasis.POLICE_SERIOUS_VIOLENCE: _(
        "Uppgifter till polisen om brott mot en närstående eller tidigare närstående, när det behövs "
        "för att förhindra att personen på nytt utsätts för allvarligt våld. Pröva varje gång."
    ),
    LegalBasis.CRIME_AGAINST_CHILD: _(
        "Uppgifter till polis eller åklagare vid misstanke om brott mot någon som inte har fyllt 18 år, "
        "till exempel misshandel, olaga hot eller sexualbrott."
    ),
    LegalBasis.DUTY_TO_REPORT: _(
        "När en lag eller förordning kräver att uppgiften lämnas, till exempel en orosanmälan om ett "
        "barn enligt socialtjänstlagen."
    ),
    LegalBasis.NECESSARY: _(
        "När utlämnandet är nödvändigt för att er egen myndighet ska kunna fullgöra sin verksamhet. "
        "Bestämmelsen tolkas snävt: motivera varför det är nödvändigt."
    ),
}


def _today() -> datetime.date:
    return timezone.localdate()


def _checkboxes(choices: Any, label: Any, **kwargs: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, choices=choices, widget=forms.CheckboxSelectMultiple, **kwargs
    )


def _free_text(label: Any, *, rows: int, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=5000, widget=forms.Textarea(attrs={"rows": rows}), **kwargs
    )


class DisclosureForm(forms.Form):
    recipient = forms.ModelChoiceField(
        label=_("Mottagare"),
        queryset=Agency.objects.none(),
        empty_label=_("Välj myndighet"),
        error_messages={"required": _("Välj vilken myndighet som ska få uppgifterna.")},
    )
    legal_basis = forms.ChoiceField(
        label=_("Rättslig grund"),
        choices=LegalBasis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj en rättslig grund.")},
    )
    categories = _checkboxes(
        InformationCategory.choices,
        _("Uppgifter som lämnas ut"),
        help_text=_("Lämna bara ut det mottagaren behöver. Referens, status och datum följer alltid med."),
        error_messages={"required": _("Välj vilka uppgifter som lämnas ut.")},
    )
    valid_until = forms.DateField(
        label=_("Giltigt till och med"),
        required=False,
        help_text=_("Krävs vid samtycke. Åtkomsten upphör vid midnatt efter detta datum."),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    never_disclose_to = _checkboxes(
        [],
        _("Personen vill aldrig att uppgifter lämnas till"),
        required=False,
        help_text=_(
            "Bara vid samtycke. Gäller alla senare samtycken i ärendet, "
            "också sedan detta samtycke har upphört."
        ),
    )
    justification = _free_text(
        _("Motivering"),
        rows=4,
        help_text=_("Varför uppgifterna behöver lämnas ut. Motiveringen krypteras och visas bara för er."),
        error_messages={"required": _("Motivera utlämnandet.")},
    )
    overrides_refusal = forms.BooleanField(
        label=_(
            "Personen har sagt nej till att uppgifter lämnas till mottagaren. Jag har tagit ställning till "
            "nejet, och motiveringen säger varför uppgifterna ändå måste lämnas ut."
        ),
        required=False,
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        others = Agency.objects.filter(is_active=True).exclude(pk=case.agency_id).order_by("name")
        cast("forms.ModelChoiceField[Agency]", self.fields["recipient"]).queryset = others
        cast(forms.MultipleChoiceField, self.fields["never_disclose_to"]).choices = [
            (agency.code, agency.name) for agency in others
        ]
        # The agencies the person refused, named on the page so an OSL disclosure to one is never by
        # mistake (cases/sharing.py: require_refusal_considered).
        self.refused = sorted(consent_refusals(case))
        self.refused_names = [agency.name for agency in others if agency.code in self.refused]
        if not self.refused:
            del self.fields["overrides_refusal"]

    def basis_options(self) -> list[tuple[Any, Promise]]:
        """Each radio button of the legal basis with its explanation, for the template."""
        return [
            (option, BASIS_EXPLANATIONS[option.data["value"]]) for option in self["legal_basis"].subwidgets
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        basis = cleaned.get("legal_basis")
        valid_until: datetime.date | None = cleaned.get("valid_until")
        never = cleaned.get("never_disclose_to") or []
        recipient: Agency | None = cleaned.get("recipient")
        if valid_until is not None and valid_until < _today():
            self.add_error("valid_until", _("Datumet har redan passerat."))
        if basis == LegalBasis.CONSENT:
            if valid_until is None and "valid_until" not in self.errors:
                self.add_error("valid_until", _("Ett samtycke behöver ett slutdatum."))
            if recipient is not None and recipient.code in consent_refusals(self.case) | set(never):
                self.add_error(
                    "recipient", _("Personen har sagt nej till att uppgifter lämnas till den myndigheten.")
                )
        elif basis and never:
            self.add_error(
                "never_disclose_to",
                _("En lista över myndigheter som aldrig får uppgifter hör bara till ett samtycke."),
            )
        return cleaned


class EndDisclosureForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Hur utlämnandet avslutas"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj hur utlämnandet avslutas.")},
    )

    def __init__(self, *args: Any, disclosure: Disclosure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(DisclosureEnd.REVOKED.value, _("Vi återkallar utlämnandet"))]
        if disclosure.legal_basis == LegalBasis.CONSENT:
            choices.append(
                (DisclosureEnd.CONSENT_WITHDRAWN.value, _("Personen har återkallat sitt samtycke"))
            )
        field = cast(forms.ChoiceField, self.fields["kind"])
        field.choices = choices
        field.initial = choices[0][0] if len(choices) == 1 else None


class EmergencySearchForm(forms.Form):
    """An exact reference or an exact number, never both: nothing here ever lists or matches partly."""

    reference = forms.CharField(
        label=_("Ärendereferens"),
        required=False,
        max_length=16,
        help_text=_("Till exempel VR-7K3F-Q9."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    kind = forms.ChoiceField(
        label=_("Typ av nummer"), choices=SEARCHABLE_KINDS, initial=IdentityNumberKind.PERSONNUMMER
    )
    number = forms.CharField(
        label=_("Nummer"),
        required=False,
        max_length=20,
        help_text=_("ÅÅÅÅMMDD-NNNN. Hela numret; delar av ett nummer söks aldrig."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reference = cleaned.get("reference", "").strip()
        number = cleaned.get("number", "").strip()
        if reference and number:
            raise ValidationError(_("Sök antingen på ärendereferens eller på nummer, inte på båda."))
        if not reference and not number:
            raise ValidationError(_("Skriv en ärendereferens eller ett nummer."))
        cleaned["reference"] = reference.upper()
        cleaned["normalised"] = ""
        if number and "kind" in cleaned:
            try:
                cleaned["normalised"] = normalise_identity_number(number, cleaned["kind"])
            except ValidationError as error:
                self.add_error("number", error)
        return cleaned


class EmergencyRequestForm(forms.Form):
    reference = forms.CharField(max_length=16, widget=forms.HiddenInput)
    membership = forms.TypedChoiceField(
        label=_("Du begär åtkomsten som"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj i vilken myndighet du arbetar med ärendet.")},
    )
    reason = _free_text(
        _("Skäl till nödåtkomsten"),
        rows=4,
        min_length=10,
        help_text=_("Varför du behöver se ärendet nu och inte kan vänta på ett utlämnande."),
        error_messages={
            "required": _("Beskriv skälet till nödåtkomsten."),
            "min_length": _("Beskriv skälet till nödåtkomsten (minst tio tecken)."),
        },
    )

    overrides_refusal = forms.BooleanField(
        label=_(
            "Personen har sagt nej till att uppgifter lämnas till min myndighet. Jag har tagit ställning "
            "till nejet, och skälet säger varför jag ändå måste se ärendet nu."
        ),
        required=False,
    )

    def __init__(
        self, *args: Any, memberships: list[Membership], refused: set[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = {membership.pk: membership for membership in memberships}
        # Shown only where one of the requester's agencies is among those the person refused.
        self.refused = any(membership.agency.code in (refused or set()) for membership in memberships)
        if not self.refused:
            del self.fields["overrides_refusal"]
        field = cast(forms.TypedChoiceField, self.fields["membership"])
        field.choices = [
            (membership.pk, f"{membership.get_role_display()}, {membership.agency.name}")
            for membership in memberships
        ]
        if len(memberships) == 1:
            # Nothing to choose: the one membership is used, and the field is not shown.
            field.initial = memberships[0].pk
            field.required = False
            field.widget = forms.HiddenInput()

    def chosen_membership(self) -> Membership:
        chosen = self.cleaned_data.get("membership")
        if isinstance(chosen, int):
            return self.memberships[chosen]
        # Only one membership: the field was hidden and not required.
        return next(iter(self.memberships.values()))


class EmergencyReviewForm(forms.Form):
    comment = _free_text(
        _("Granskningens kommentar"),
        rows=4,
        help_text=_("Till exempel om skälet var godtagbart och om något behöver följas upp."),
        error_messages={"required": _("Skriv en kommentar till granskningen.")},
    )
