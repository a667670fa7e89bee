"""The sign-up form: the same checks as the API's registration (one service does both)."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator


class SignUpForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        validators=[
            RegexValidator(r"^[\w.@+-]{3,150}$", "3 to 150 letters, digits and . @ + - _ only.")
        ],
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        max_length=128,
        strip=False,
        label="Password (again)",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data
