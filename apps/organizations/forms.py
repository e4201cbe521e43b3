from __future__ import annotations

from decimal import Decimal

from django import forms

from apps.organizations.models import Role

_NO_AUTOCORRECT = {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}


class SignupForm(forms.Form):
    organization_name = forms.CharField(
        max_length=100, label="Organization name",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "organization"}),
    )
    # The service owns the slug rules (pattern, reserved words, uniqueness) and reports them by field.
    slug = forms.CharField(
        max_length=40, label="Address",
        help_text="Lower-case letters, digits and hyphens. This becomes your organization's own web address.",
        widget=forms.TextInput(attrs={**_NO_AUTOCORRECT, "data-slug-input": ""}),
    )
    # Optional: someone adding an organization to their existing account already has a name.
    full_name = forms.CharField(max_length=150, label="Your name", required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label="Work e-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        strip=False, help_text="At least 10 characters, not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()


class InvitationCreateForm(forms.Form):
    email = forms.EmailField(label="E-mail address", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.DEVELOPER)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(max_length=150, label="Your name",
                                widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}))
    password = forms.CharField(
        label="Choose a password", strip=False, help_text="At least 10 characters, not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(max_length=100, label="Organization name")
    ai_daily_budget_usd = forms.DecimalField(
        label="AI daily budget (USD)", min_value=Decimal("0"), max_digits=10, decimal_places=2,
        help_text="The most Argus may spend on AI model calls in one day (UTC).",
    )
    ai_monthly_budget_usd = forms.DecimalField(
        label="AI monthly budget (USD)", min_value=Decimal("0"), max_digits=10, decimal_places=2,
        help_text="The most Argus may spend on AI model calls in one calendar month.",
    )
    ai_opt_out = forms.BooleanField(
        required=False, label="Opt out of AI",
        help_text="No AI model is ever called for this organization.",
    )
