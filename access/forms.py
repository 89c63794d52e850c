from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class PasswordStepForm(AuthenticationForm):
    """The first step of logging in. Its errors never say whether the username exists."""

    error_messages = {
        "invalid_login": _(
            "Fel användarnamn eller lösenord. Observera att kontot spärras tillfälligt efter "
            "upprepade misslyckade försök."
        ),
        "inactive": _("Kontot är inaktiverat. Kontakta systemadministratören."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Användarnamn")
        self.fields["password"].label = _("Lösenord")
        # No autofocus: it would skip the "Hoppa till innehållet" link and the heading for keyboard and
        # screen-reader users.
        self.fields["username"].widget.attrs.pop("autofocus", None)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Engångskod"),
        min_length=6,
        max_length=6,
        help_text=_("Sexsiffrig kod från din autentiseringsapp."),
        error_messages={
            "required": _("Skriv in den sexsiffriga koden."),
            "min_length": _("Koden ska vara sex siffror."),
            "max_length": _("Koden ska vara sex siffror."),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("Koden ska bara innehålla siffror."))
        return token


class EnrolmentForm(TokenForm):
    """Enrolment by link: the user chooses a password and confirms the authenticator with a code."""

    password1 = forms.CharField(
        label=_("Välj lösenord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Upprepa lösenordet"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    field_order = ["password1", "password2", "token"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", _("Lösenorden är inte lika."))
            else:
                try:
                    password_validation.validate_password(first, self.user)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return cleaned
