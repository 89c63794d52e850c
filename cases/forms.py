"""The forms of the case pages. They validate in Swedish and hand plain data (cases.records) or unsaved
rows to the actions in cases.actions; they never save anything themselves.

A personnummer is normalised here (cases.identity), so every spelling of one number reaches the blind
index the same way.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import Agency, Membership
from access.redaction import looks_like_identity_number
from cases.choices import (
    CaseFlag,
    CaseStatus,
    ChildAgeBand,
    HonourSubtype,
    IdentityNumberKind,
    LegalGender,
    MeasureKind,
    PerpetratorRelation,
    ProtectedIdentity,
    RiskInstrument,
    RiskLevel,
    ViolenceContext,
    ViolenceForm,
)
from cases.identity import birth_year_from, normalise_identity_number
from cases.limits import (
    ADDRESS_MAX_LENGTH,
    CONTACT_MAX_LENGTH,
    IDENTITY_NUMBER_MAX_LENGTH,
    INSTRUMENT_VERSION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    OVERRIDE_REASON_MAX_LENGTH,
    SAFE_CONTACT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)
from cases.models import ProtectiveMeasure, RiskAssessment
from cases.records import Children, Classification, PersonData

# The flags a person types in; the children's flags follow from the children's details
# (Classification.effective_flags), so they are not offered twice.
RECORDED_FLAGS = [
    (code, label)
    for code, label in CaseFlag.choices
    if code not in {CaseFlag.CHILDREN_IN_HOUSEHOLD, CaseFlag.CHILDREN_WITNESSED, CaseFlag.REPORT_OF_CONCERN}
]
SEARCHABLE_KINDS = [
    (code, label) for code, label in IdentityNumberKind.choices if code != IdentityNumberKind.NONE
]
FUTURE_DATE = _("Datumet kan inte ligga i framtiden.")


def _date_input() -> forms.DateInput:
    # type="date" needs ISO dates in the value attribute, whatever the language.
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _checkboxes(choices: Any, label: Any, *, required: bool = False, **kwargs: Any) -> forms.Field:
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=required, widget=forms.CheckboxSelectMultiple, **kwargs
    )


def _today() -> datetime.date:
    return timezone.localdate()


def _based_on() -> forms.CharField:
    """What the edit was based on (cases.actions.person_token / classification_token), carried through
    the form so a save over someone else's newer one is refused, not silently overwritten."""
    return forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class PersonForm(forms.Form):
    based_on = _based_on()
    name = forms.CharField(label=_("Namn"), max_length=NAME_MAX_LENGTH)
    identity_kind = forms.ChoiceField(
        label=_("Typ av nummer"), choices=IdentityNumberKind.choices, initial=IdentityNumberKind.PERSONNUMMER
    )
    identity_number = forms.CharField(
        label=_("Nummer"),
        required=False,
        max_length=IDENTITY_NUMBER_MAX_LENGTH,
        help_text=_("Personnummer och samordningsnummer skrivs ÅÅÅÅMMDD-NNNN. Lämna tomt om nummer saknas."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_year = forms.IntegerField(
        label=_("Födelseår"),
        required=False,
        min_value=1900,
        help_text=_("Behövs bara om det inte går att läsa ut ur numret."),
    )
    legal_gender = forms.ChoiceField(label=_("Juridiskt kön"), choices=LegalGender.choices)
    protected_identity = forms.ChoiceField(
        label=_("Skyddade personuppgifter"), choices=ProtectedIdentity.choices, initial=ProtectedIdentity.NONE
    )
    contact = forms.CharField(label=_("Kontaktuppgifter"), required=False, max_length=CONTACT_MAX_LENGTH)
    safe_contact = forms.CharField(
        label=_("Säkert sätt att kontakta personen"),
        required=False,
        max_length=SAFE_CONTACT_MAX_LENGTH,
        help_text=_("Till exempel vilka tider och vilket nummer som är säkra, eller att bara sms fungerar."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    address = forms.CharField(
        label=_("Adress"),
        required=False,
        max_length=ADDRESS_MAX_LENGTH,
        help_text=_("Lämnas tom när personen har skyddade personuppgifter."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_birth_year(self) -> int | None:
        year: int | None = self.cleaned_data.get("birth_year")
        if year is not None and year > _today().year:
            raise ValidationError(_("Födelseåret kan inte ligga i framtiden."))
        return year

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("identity_kind")
        number = cleaned.get("identity_number", "")
        if kind and "identity_number" in cleaned:
            if kind != IdentityNumberKind.NONE and not number.strip():
                self.add_error("identity_number", _("Skriv numret, eller välj ”Saknas” som typ av nummer."))
            else:
                try:
                    cleaned["identity_number"] = normalise_identity_number(number, kind)
                except ValidationError as error:
                    self.add_error("identity_number", error)
                else:
                    derived = birth_year_from(cleaned["identity_number"], kind)
                    if derived is not None:
                        cleaned["birth_year"] = derived
        protected = cleaned.get("protected_identity", ProtectedIdentity.NONE)
        if protected != ProtectedIdentity.NONE and cleaned.get("address", "").strip():
            # The action refuses this too; saying it here keeps everything else the user typed.
            self.add_error(
                "address",
                _(
                    "En person med skyddade personuppgifter får aldrig ha en adress i systemet. "
                    "Töm adressfältet."
                ),
            )
        return cleaned

    def person_data(self) -> PersonData:
        data = self.cleaned_data
        return PersonData(
            name=data["name"].strip(),
            identity_kind=data["identity_kind"],
            identity_number=data["identity_number"],
            contact=data["contact"].strip(),
            safe_contact=data["safe_contact"].strip(),
            address=data["address"].strip(),
            legal_gender=data["legal_gender"],
            birth_year=data.get("birth_year"),
            protected_identity=data["protected_identity"],
        )

    @staticmethod
    def initial_from(person: PersonData) -> dict[str, Any]:
        return {
            "name": person.name,
            "identity_kind": person.identity_kind,
            "identity_number": person.identity_number,
            "birth_year": person.birth_year,
            "legal_gender": person.legal_gender,
            "protected_identity": person.protected_identity,
            "contact": person.contact,
            "safe_contact": person.safe_contact,
            "address": person.address,
        }


class ClassificationForm(forms.Form):
    based_on = _based_on()
    contexts = _checkboxes(
        ViolenceContext.choices,
        _("Sammanhang"),
        required=True,
        error_messages={"required": _("Välj minst ett sammanhang.")},
    )
    violence_forms = _checkboxes(ViolenceForm.choices, _("Våldsformer"))
    honour_subtypes = _checkboxes(
        HonourSubtype.choices,
        _("Hedersrelaterat våld och förtryck – form"),
        help_text=_("Bara när sammanhanget är hedersrelaterat våld och förtryck."),
    )
    relations = _checkboxes(PerpetratorRelation.choices, _("Relation till den som utövar våld"))
    flags = _checkboxes(RECORDED_FLAGS, _("Särskild uppmärksamhet"))
    child_count = forms.IntegerField(
        label=_("Antal barn i hushållet"), min_value=0, max_value=20, initial=0, required=False
    )
    child_age_bands = _checkboxes(ChildAgeBand.choices, _("Barnens åldrar"))
    children_witnessed = forms.BooleanField(label=_("Barn har bevittnat eller upplevt våld"), required=False)
    report_made = forms.BooleanField(label=_("Orosanmälan är gjord"), required=False)
    report_date = forms.DateField(label=_("Datum för orosanmälan"), required=False, widget=_date_input())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        count = cleaned.get("child_count") or 0
        cleaned["child_count"] = count
        if count == 0 and (
            cleaned.get("child_age_bands") or cleaned.get("children_witnessed") or cleaned.get("report_made")
        ):
            self.add_error("child_count", _("Ange hur många barn det gäller."))
        report_date = cleaned.get("report_date")
        if report_date and not cleaned.get("report_made"):
            self.add_error(
                "report_date", _("Datum för orosanmälan kan bara anges när en orosanmälan är gjord.")
            )
        if report_date and report_date > _today():
            self.add_error("report_date", FUTURE_DATE)
        contexts = cleaned.get("contexts")
        if cleaned.get("honour_subtypes") and contexts is not None and ViolenceContext.HONOUR not in contexts:
            self.add_error(
                "honour_subtypes",
                _(
                    "Former av hedersrelaterat våld och förtryck kan bara väljas när sammanhanget är "
                    "hedersrelaterat våld och förtryck."
                ),
            )
        return cleaned

    def classification(self) -> Classification:
        data = self.cleaned_data
        return Classification(
            contexts=list(data["contexts"]),
            forms=list(data["violence_forms"]),
            honour_subtypes=list(data["honour_subtypes"]),
            relations=list(data["relations"]),
            flags=list(data["flags"]),
            children=Children(
                count=data["child_count"],
                age_bands=list(data["child_age_bands"]),
                witnessed=data["children_witnessed"],
                report_made=data["report_made"],
                report_date=data.get("report_date"),
            ),
        )

    @staticmethod
    def initial_from(classification: Classification) -> dict[str, Any]:
        children = classification.children
        recorded = {code for code, _label in RECORDED_FLAGS}
        return {
            "contexts": classification.contexts,
            "violence_forms": classification.forms,
            "honour_subtypes": classification.honour_subtypes,
            "relations": classification.relations,
            "flags": [flag for flag in classification.flags if flag in recorded],
            "child_count": children.count,
            "child_age_bands": children.age_bands,
            "children_witnessed": children.witnessed,
            "report_made": children.report_made,
            "report_date": children.report_date,
        }


class OwningAgencyForm(forms.Form):
    """Which of the user's casework agencies will own the new case."""

    agency = forms.ModelChoiceField(
        label=_("Myndighet som äger ärendet"), queryset=Agency.objects.none(), empty_label=None
    )

    def __init__(self, *args: Any, memberships: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = {membership.agency_id: membership for membership in memberships}
        field = cast("forms.ModelChoiceField[Agency]", self.fields["agency"])
        field.queryset = Agency.objects.filter(pk__in=self.memberships).order_by("name")
        if len(memberships) == 1:
            field.initial = memberships[0].agency_id

    def membership(self) -> Membership:
        return self.memberships[self.cleaned_data["agency"].pk]


class RiskAssessmentForm(forms.ModelForm[RiskAssessment]):
    # The instrument, its version and the levels are sealed on the row (not columns), so the form
    # declares them and hands them to the row in _post_clean.
    instrument = forms.ChoiceField(label=_("instrument"), choices=RiskInstrument.choices)
    instrument_version = forms.CharField(
        label=_("version"), required=False, max_length=INSTRUMENT_VERSION_MAX_LENGTH
    )
    level = forms.ChoiceField(label=_("risknivå enligt instrumentet"), choices=RiskLevel.choices)
    override_level = forms.ChoiceField(label=_("risknivå efter professionell bedömning"), required=False)
    own_perception = forms.ChoiceField(label=_("personens egen uppfattning av risken"), required=False)
    override_reason = forms.CharField(
        label=_("Skäl till den professionella bedömningen"),
        required=False,
        max_length=OVERRIDE_REASON_MAX_LENGTH,
        help_text=_("Krävs när risknivån efter professionell bedömning avviker från instrumentet."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notes = forms.CharField(
        label=_("Anteckningar"),
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = RiskAssessment
        fields = [
            "instrument",
            "instrument_version",
            "assessed_on",
            "level",
            "override_level",
            "own_perception",
            "next_review_on",
        ]
        widgets = {"assessed_on": _date_input(), "next_review_on": _date_input()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["override_level"]).choices = [
            ("", _("Ingen avvikelse")),
            *RiskLevel.choices,
        ]
        cast(forms.ChoiceField, self.fields["own_perception"]).choices = [
            ("", _("Inte angiven")),
            *RiskLevel.choices,
        ]
        self.fields["assessed_on"].initial = _today

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("override_level") and not cleaned.get("override_reason", "").strip():
            self.add_error(
                "override_reason",
                _("Ange skälet till att den professionella bedömningen avviker från instrumentet."),
            )
        assessed_on = cleaned.get("assessed_on")
        if assessed_on and assessed_on > _today():
            self.add_error("assessed_on", FUTURE_DATE)
        next_review_on = cleaned.get("next_review_on")
        if assessed_on and next_review_on and next_review_on < assessed_on:
            self.add_error("next_review_on", _("Uppföljningen kan inte ligga före bedömningen."))
        # Not model fields (sealed on the row), so the ModelForm would not hand them over itself.
        for name in RiskAssessment.SEALED_VALUES["result"]:
            setattr(self.instance, name, str(cleaned.get(name) or "").strip())
        return cleaned


class ProtectiveMeasureForm(forms.ModelForm[ProtectiveMeasure]):
    kind = forms.ChoiceField(label=_("insats"), choices=MeasureKind.choices)  # sealed on the row
    notes = forms.CharField(
        label=_("Anteckningar"),
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = ProtectiveMeasure
        fields = ["kind", "starts_on", "ends_on", "responsible_agency", "review_on"]
        widgets = {"starts_on": _date_input(), "ends_on": _date_input(), "review_on": _date_input()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Agency]", self.fields["responsible_agency"])
        # Any active agency may be responsible: a contact ban is the police's, sheltered housing a shelter's.
        field.queryset = Agency.objects.filter(is_active=True).order_by("name")
        field.empty_label = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("Slutdatumet kan inte ligga före startdatumet."))
        review_on = cleaned.get("review_on")
        if starts_on and review_on and review_on < starts_on:
            self.add_error("review_on", _("Omprövningen kan inte ligga före startdatumet."))
        self.instance.kind = str(cleaned.get("kind") or "")  # sealed on the row, not a model field
        return cleaned


class IncidentForm(forms.Form):
    occurred_on = forms.DateField(label=_("Datum"), widget=_date_input())
    violence_forms = _checkboxes(
        ViolenceForm.choices,
        _("Våldsformer"),
        required=True,
        error_messages={"required": _("Välj minst en våldsform.")},
    )
    notes = forms.CharField(
        label=_("Anteckningar"),
        required=False,
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_occurred_on(self) -> datetime.date:
        day: datetime.date = self.cleaned_data["occurred_on"]
        if day > _today():
            raise ValidationError(FUTURE_DATE)
        return day


class VersionedTextForm(forms.Form):
    """The summary or a contribution: the text and the version it was written from."""

    text = forms.CharField(
        label=_("Text"),
        max_length=TEXT_MAX_LENGTH,
        help_text=_("Skriv ett stycke per ämne, med en tom rad mellan styckena."),
        error_messages={"required": _("Skriv en text innan du sparar.")},
        widget=forms.Textarea(attrs={"rows": 14, "class": "wide"}),
    )
    based_on = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.fields["text"].label = label

    def rebased(self, number: int) -> VersionedTextForm:
        """The same text, now based on version ``number``: saving it again after comparing is allowed."""
        data = {"text": self.data.get("text", ""), "based_on": str(number)}
        form = VersionedTextForm(data, label=str(self.fields["text"].label))
        form.full_clean()
        return form


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=CaseStatus.choices)


class LegalHoldForm(forms.Form):
    hold = forms.TypedChoiceField(
        choices=[("ja", _("Ja")), ("nej", _("Nej"))], coerce=lambda value: value == "ja"
    )


# A case reference, upper-cased: letters, digits and hyphens, at least one letter (never a number).
CASE_REFERENCE = re.compile(r"^(?=.*[A-Z])[A-Z0-9-]{1,16}$")
IDENTITY_NUMBER_IN_REFERENCE_BOX = _(
    "Det ser ut som ett personnummer. Sök på nummer i rutan för personnummer i stället: där söks bara "
    "ärenden vars personuppgifter du får läsa."
)


class ReferenceSearchForm(forms.Form):
    """The reference box, sent by POST. A personnummer typed into it by mistake is refused and, unlike
    other bad input, not shown back: the page could be kept by the browser or printed."""

    referens = forms.CharField(
        label=_("Ärendereferens"),
        # Not required here: an empty box and a refused number each get their own message below.
        required=False,
        max_length=32,
        help_text=_("Till exempel VR-7K3F-Q9."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        self.refused_number = data is not None and looks_like_identity_number(data.get("referens", ""))
        if self.refused_number:
            data = data.copy()
            data["referens"] = ""
        super().__init__(data, **kwargs)

    def clean_referens(self) -> str:
        if self.refused_number:
            raise ValidationError(IDENTITY_NUMBER_IN_REFERENCE_BOX, code="identity_number")
        value = str(self.cleaned_data["referens"]).strip().upper()
        if not value:
            raise ValidationError(_("Skriv en ärendereferens."), code="required")
        if not CASE_REFERENCE.match(value):
            raise ValidationError(
                _("Skriv ärendereferensen med bokstäver, siffror och bindestreck, till exempel VR-7K3F-Q9."),
                code="reference",
            )
        return value


class IdentitySearchForm(forms.Form):
    """Search by number: sent only by POST, so the number never lands in a URL, a log or the history."""

    kind = forms.ChoiceField(
        label=_("Typ av nummer"), choices=SEARCHABLE_KINDS, initial=IdentityNumberKind.PERSONNUMMER
    )
    number = forms.CharField(
        label=_("Nummer"),
        max_length=20,
        help_text=_("ÅÅÅÅMMDD-NNNN. Bara ärenden du redan har behörighet till söks igenom."),
        error_messages={"required": _("Skriv numret du vill söka på.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "kind" in cleaned and "number" in cleaned:
            try:
                cleaned["normalised"] = normalise_identity_number(cleaned["number"], cleaned["kind"])
            except ValidationError as error:
                self.add_error("number", error)
        return cleaned
