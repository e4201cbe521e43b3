from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.utils import timezone

from apps.accounts.models import ApiKeyScope


class LoginForm(forms.Form):
    email = forms.EmailField(label="E-mail",
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="Current password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password = forms.CharField(
        label="New password", strip=False, help_text="At least 10 characters, not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_confirm = forms.CharField(
        label="New password, again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        new, confirm = cleaned.get("new_password"), cleaned.get("new_password_confirm")
        if new and confirm and new != confirm:
            self.add_error("new_password_confirm", "The two passwords do not match.")
        return cleaned


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses this key, e.g. “CI pipeline”.",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices, widget=forms.CheckboxSelectMultiple, initial=[ApiKeyScope.READ],
        help_text="Read lists and fetches; write also creates and changes; admin also manages the organization. "
                  "A key never does more than its creator's role allows.",
    )
    expires_on = forms.DateField(
        required=False, label="Expires on",
        help_text="The key stops working at the end of this day (UTC). Leave empty for no expiry.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_expires_on(self):
        expires_on = self.cleaned_data.get("expires_on")
        if expires_on and expires_on < timezone.now().date():
            raise forms.ValidationError("Pick today or a later day.")
        return expires_on

    def expires_at(self) -> datetime | None:
        expires_on = self.cleaned_data.get("expires_on")
        if expires_on is None:
            return None
        return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=UTC)
