"""The forms of referrals. They validate in Swedish and keep what the user typed; the actions in
coordination.referrals check everything again."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from access.models import Agency
from cases.models import Case
from cases.sharing_forms import DisclosureForm
from coordination.referrals import REQUEST_MAX_LENGTH, DisclosureTerms


def _recipients(case: Case) -> Any:
    return Agency.objects.filter(is_active=True).exclude(pk=case.agency_id).order_by("name")


class _RecipientField(forms.ModelChoiceField[Agency]):
    """Agencies by name; the caseworker sees at once which already have the case disclosed to them."""

    disclosed_to: set[int] = set()

    def label_from_instance(self, obj: Agency) -> str:
        if obj.pk in self.disclosed_to:
            return _("%(agency)s (utlämnande gäller)") % {"agency": obj.name}
        return obj.name


class RecipientForm(forms.Form):
    """Step one (a GET form: it changes nothing): which agency the referral goes to."""

    till = _RecipientField(
        label=_("Mottagande myndighet"),
        queryset=Agency.objects.none(),
        to_field_name="code",
        empty_label=_("Välj myndighet"),
        error_messages={
            "required": _("Välj vilken myndighet förfrågan ska gå till."),
            "invalid_choice": _("Välj en av myndigheterna i listan."),
        },
    )

    def __init__(self, *args: Any, case: Case, disclosed_to: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(_RecipientField, self.fields["till"])
        field.queryset = _recipients(case)
        field.disclosed_to = disclosed_to


class ReferralForm(forms.Form):
    """Step two: the request itself. ``till`` travels along as a hidden field."""

    till = forms.ModelChoiceField(
        queryset=Agency.objects.none(),
        to_field_name="code",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Välj vilken myndighet förfrågan ska gå till."),
            "invalid_choice": _("Välj en av myndigheterna i listan."),
        },
    )
    request_text = forms.CharField(
        label=_("Vad ni ber myndigheten om"),
        max_length=REQUEST_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Beskriv vad ni vill att myndigheten gör. Texten krypteras och visas bara för er och för "
            "den mottagande myndigheten, så länge ärendet är utlämnat till den."
        ),
        error_messages={"required": _("Skriv vad ni ber myndigheten om.")},
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Agency]", self.fields["till"]).queryset = _recipients(case)


class ReferralDisclosureForm(DisclosureForm):
    """The disclosure form of cases.sharing_forms, with its validation, for the referral's recipient:
    the recipient is not chosen here but is the referral's."""

    def __init__(self, *args: Any, case: Case, recipient: Agency | None, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        del self.fields["recipient"]
        self.referral_recipient = recipient

    def clean(self) -> dict[str, Any]:
        if self.referral_recipient is not None:
            # DisclosureForm.clean checks the person's "never disclose to" list against the recipient.
            self.cleaned_data["recipient"] = self.referral_recipient
        return super().clean()

    def add_error(self, field: str | None, error: Any) -> None:
        # The recipient is the referral's, chosen in step one: its errors belong to the whole form.
        super().add_error(None if field == "recipient" else field, error)

    def terms(self) -> DisclosureTerms:
        data = self.cleaned_data
        return DisclosureTerms(
            legal_basis=data["legal_basis"],
            categories=list(data["categories"]),
            justification=data["justification"],
            valid_until=data["valid_until"],
            never_disclose_to=list(data["never_disclose_to"]),
        )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Skäl till att förfrågan avvisas"),
        max_length=REQUEST_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Skälet krypteras och visas för båda myndigheterna."),
        error_messages={"required": _("Skriv varför förfrågan avvisas.")},
    )
