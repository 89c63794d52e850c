"""The forms of the administration views (access/administration_views.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from access.models import Agency, Role, User
from access.models_admin import AccountChangeKind


class NewUserForm(forms.Form):
    username = forms.RegexField(
        label=_("Användarnamn"),
        max_length=150,
        regex=r"^[a-z0-9._-]+$",
        error_messages={
            "invalid": _("Använd små bokstäver a–z, siffror, punkt, bindestreck och understreck.")
        },
    )
    first_name = forms.CharField(label=_("Förnamn"), max_length=150)
    last_name = forms.CharField(label=_("Efternamn"), max_length=150)
    email = forms.EmailField(
        label=_("E-postadress i tjänsten"),
        help_text=_("Aktiveringslänken skickas hit. Den visas aldrig för dig som administratör."),
    )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(_("Användarnamnet finns redan."))
        return username


class GrantForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("Myndighet"), queryset=Agency.objects.filter(is_active=True))
    role = forms.ChoiceField(label=_("Roll"), choices=Role.choices)


class AccountChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Ändring"), choices=AccountChangeKind.choices)
    new_email = forms.EmailField(label=_("Ny e-postadress"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == AccountChangeKind.EMAIL and not cleaned.get("new_email"):
            self.add_error("new_email", _("Ange den nya e-postadressen."))
        return cleaned
