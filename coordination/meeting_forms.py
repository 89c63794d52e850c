"""The forms of coordination meetings. They check what a form can (required fields, formats) in
Swedish and hand plain values to the actions in coordination/meetings.py, which check the rules again;
an action's refusal is shown on the field it concerns, with what the user typed kept."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from access.models import Agency, Membership
from cases.limits import EXPORT_NOTE_MAX_LENGTH
from coordination.action_plan import DESCRIPTION_MAX_LENGTH
from coordination.models import MeetingKind

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def membership_label(membership: Membership) -> str:
    user = membership.user
    name = user.get_full_name() or user.get_username()
    return f"{name} ({user.get_username()}), {membership.agency.name}"


class MeetingForm(forms.Form):
    organiser = forms.TypedChoiceField(
        label=_("Sammankallande myndighet"),
        coerce=int,
        error_messages={"required": _("Välj vilken myndighet som kallar till mötet.")},
    )
    starts_at = forms.DateTimeField(
        label=_("Tid"),
        input_formats=[DATETIME_FORMAT],
        widget=forms.DateTimeInput(format=DATETIME_FORMAT, attrs={"type": "datetime-local"}),
        help_text=_("Ett ordinarie möte planeras minst ett dygn i förväg; ett akut möte kan hållas direkt."),
        error_messages={
            "required": _("Ange när mötet börjar."),
            "invalid": _("Ange datum och klockslag, till exempel 2026-12-01 09:00."),
        },
    )
    kind = forms.ChoiceField(
        label=_("Typ av möte"),
        choices=MeetingKind.choices,
        initial=MeetingKind.ORDINARY,
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj om mötet är ordinarie eller akut.")},
    )
    participants = forms.ModelMultipleChoiceField(
        label=_("Deltagande myndigheter"),
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Den sammankallande myndigheten deltar alltid."),
        error_messages={"required": _("Välj minst en annan myndighet som deltar.")},
    )

    def __init__(self, *args: Any, coordinator_memberships: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memberships = {membership.pk: membership for membership in coordinator_memberships}
        organiser = cast(forms.TypedChoiceField, self.fields["organiser"])
        organiser.choices = [(m.pk, m.agency.name) for m in coordinator_memberships]
        if len(coordinator_memberships) == 1:
            # One agency to organise for: nothing to choose, the field stays out of sight.
            organiser.initial = coordinator_memberships[0].pk
            organiser.widget = forms.HiddenInput()
        participants = cast("forms.ModelMultipleChoiceField[Agency]", self.fields["participants"])
        participants.queryset = Agency.objects.filter(is_active=True).order_by("name")

    def organiser_membership(self) -> Membership:
        return self.memberships[self.cleaned_data["organiser"]]


class AgendaForm(forms.Form):
    reference = forms.CharField(
        label=_("Ärendereferens"),
        max_length=16,
        help_text=_(
            "Till exempel VR-7K3F-Q9. Ärendets sammanfattning måste vara utlämnad till alla deltagande "
            "myndigheter."
        ),
        error_messages={"required": _("Skriv en ärendereferens.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Protokoll"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 10, "class": "wide"}),
        help_text=_(
            "Vad mötet tog upp om ärendet. Texten krypteras och visas bara för den som får se ärendet."
        ),
    )
    decisions = forms.CharField(
        label=_("Beslut"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 6, "class": "wide"}),
    )
    based_on = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned is not None and not (
            cleaned.get("minutes", "").strip() or cleaned.get("decisions", "").strip()
        ):
            self.add_error("minutes", _("Skriv protokoll eller beslut innan du sparar."))
        return cleaned

    def rebased(self, token: str) -> MinutesForm:
        """The same texts, now based on the minutes saved meanwhile: saving again after comparing is
        allowed."""
        data = {
            "minutes": self.data.get("minutes", ""),
            "decisions": self.data.get("decisions", ""),
            "based_on": token,
        }
        form = MinutesForm(data)
        form.full_clean()
        return form


class AttendanceForm(forms.Form):
    attendees = forms.TypedMultipleChoiceField(
        label=_("Närvarande"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Handläggare och samordnare i de deltagande myndigheterna."),
    )

    def __init__(self, *args: Any, candidates: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {membership.pk: membership for membership in candidates}
        field = cast(forms.TypedMultipleChoiceField, self.fields["attendees"])
        field.choices = [(membership.pk, membership_label(membership)) for membership in candidates]

    def chosen(self) -> list[Membership]:
        return [self.candidates[pk] for pk in self.cleaned_data["attendees"]]


class MeetingActionForm(forms.Form):
    owner = forms.TypedChoiceField(
        label=_("Ansvarig"),
        coerce=int,
        help_text=_(
            "En handläggare eller samordnare i en deltagande myndighet som äger ärendet eller har fått det "
            "utlämnat."
        ),
        error_messages={"required": _("Välj vem som ansvarar för åtgärden.")},
    )
    due_on = forms.DateField(
        label=_("Klart senast"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        error_messages={"required": _("Ange när åtgärden ska vara klar."), "invalid": _("Ange ett datum.")},
    )
    description = forms.CharField(
        label=_("Åtgärd"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Beskriv åtgärden.")},
    )

    def __init__(self, *args: Any, candidates: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {membership.pk: membership for membership in candidates}
        field = cast(forms.TypedChoiceField, self.fields["owner"])
        field.choices = [("", _("Välj ansvarig")), *((m.pk, membership_label(m)) for m in candidates)]

    def owner_membership(self) -> Membership:
        return self.candidates[self.cleaned_data["owner"]]


class ExportReason(models.TextChoices):
    """Why a PDF is downloaded: fixed codes, so the audit trail never holds typed text (which could
    carry a name or what the case is about). The granskare sees the label (access/compliance/labels.py)."""

    MEETING = "samverkansmote", _("Underlag inför samverkansmötet")
    PROTECTION = "skyddsplanering", _("Planering av skyddsinsatser")
    HANDOVER = "overlamning", _("Överlämning till en kollega eller annan enhet")
    SUPERVISION = "tillsyn", _("Begäran från tillsynsmyndighet eller domstol")


class ExportReasonForm(forms.Form):
    """Why a PDF is downloaded: one of the fixed reasons, stored in the audit trail as its code."""

    reason = forms.ChoiceField(
        label=_("Skäl till att du laddar ner underlaget"),
        choices=ExportReason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Ange varför du laddar ner underlaget."),
            "invalid_choice": _("Välj ett av skälen i listan."),
        },
    )
    note = forms.CharField(
        label=_("Anteckning (frivillig)"),
        required=False,
        max_length=EXPORT_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "class": "wide"}),
        help_text=_(
            "Krypteras med ärendets nyckel och visas bara för handläggare och samordnare i den myndighet "
            "som äger ärendet, aldrig i granskningsloggen."
        ),
        error_messages={
            "max_length": _("Anteckningen får vara högst %(limit_value)d tecken (nu %(show_value)d).")
        },
    )
