from __future__ import annotations

from django import forms

from apps.projects.models import EnvironmentName, Project

# Form field per environment; the service takes {"dev": url, ...} and an empty URL removes one.
ENVIRONMENT_FIELDS = {
    "env_dev": EnvironmentName.DEVELOPMENT,
    "env_staging": EnvironmentName.STAGING,
    "env_production": EnvironmentName.PRODUCTION,
}


def _environment_field(name: EnvironmentName) -> forms.URLField:
    return forms.URLField(
        required=False, max_length=500, assume_scheme="https", label=f"{name.label} URL",
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autofocus": True}))
    base_url = forms.URLField(
        max_length=500, assume_scheme="https", label="Base URL",
        help_text="Where the application under test is reachable, e.g. https://shop.example.com/",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    env_dev = _environment_field(EnvironmentName.DEVELOPMENT)
    env_staging = _environment_field(EnvironmentName.STAGING)
    env_production = _environment_field(EnvironmentName.PRODUCTION)

    @classmethod
    def initial_for(cls, project: Project) -> dict[str, str]:
        urls = {env.name: env.url for env in project.environments.all()}
        return {
            "name": project.name, "base_url": project.base_url, "description": project.description,
            **{field: urls.get(env, "") for field, env in ENVIRONMENT_FIELDS.items()},
        }

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"], "base_url": data["base_url"], "description": data["description"],
            "environments": {env.value: data[field] for field, env in ENVIRONMENT_FIELDS.items()},
        }


class EnvironmentVariableForm(forms.Form):
    """Add or replace one variable of an environment. The page never renders a secret's value back,
    not even when the form comes back with an error (templates/projects/_variables.html)."""

    environment = forms.ChoiceField(choices=EnvironmentName.choices, widget=forms.HiddenInput)
    name = forms.RegexField(
        regex=r"^[A-Z_][A-Z0-9_]*$", max_length=64,
        error_messages={"invalid": "Use upper-case letters, digits and underscores, not starting with a digit."},
        widget=forms.TextInput(attrs={"placeholder": "LOGIN_EMAIL", "autocomplete": "off", "spellcheck": "false",
                                      "autocapitalize": "characters"}),
    )
    value = forms.CharField(required=False, max_length=10_000, strip=False,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    is_secret = forms.BooleanField(required=False, label="Secret",
                                   help_text="Masked in every trace, log and report; never shown again.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        environment = self["environment"].value() or "env"
        # One form per environment on the page: keep the ids apart.
        self.auto_id = f"id_{environment}_%s"
