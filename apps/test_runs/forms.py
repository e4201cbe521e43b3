"""Forms of the run and schedule pages. They check shapes; the services own the rules."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings

from apps.generated_tests.models import Suite
from apps.projects.models import EnvironmentName, Project
from apps.test_runs.devices import DEVICE_CHOICES
from apps.test_runs.models import RunKind, RunStatus, RunTrigger, Schedule

VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENVIRONMENT_CHOICES = [("", "The project's base URL"), *EnvironmentName.choices]


def _active_projects():
    return Project.objects.filter(archived_at__isnull=True).order_by("name")


class RunFilterForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.order_by("name"), required=False,
                                     empty_label="All projects")
    status = forms.ChoiceField(choices=[("", "Any status"), *RunStatus.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *RunKind.choices], required=False)
    trigger = forms.ChoiceField(choices=[("", "Any trigger"), *RunTrigger.choices], required=False)


class CommandRunForm(forms.Form):
    """A run of any test framework's command in a workspace; its JUnit report becomes the results."""

    project = forms.ModelChoiceField(queryset=Project.objects.none())
    command = forms.CharField(max_length=2000, widget=forms.TextInput(attrs={"placeholder": "python -m pytest",
                                                                             "spellcheck": "false"}))
    workspace_path = forms.CharField(
        max_length=1000, required=False, label="Workspace path",
        help_text="A directory on the Argus server, inside one of the allowed workspace paths.",
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    workspace_archive = forms.FileField(
        required=False, label="Or upload the workspace",
        help_text="A .zip or .tar.gz of the project to test; unpacked into a fresh folder for this run.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.tar.gz,.tgz"}),
    )
    env = forms.CharField(
        required=False, label="Environment variables",
        help_text="One NAME=value per line, added to the environment's own variables.",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code-input"}),
    )
    junit_path = forms.CharField(max_length=1000, required=False, label="JUnit report path",
                                 help_text="Relative to the workspace; a glob is allowed, e.g. reports/*.xml.")
    timeout_seconds = forms.IntegerField(required=False, min_value=1, max_value=settings.ARGUS_COMMAND_TIME_LIMIT,
                                         label="Timeout (seconds)")
    environment = forms.ChoiceField(choices=ENVIRONMENT_CHOICES, required=False,
                                    help_text="Whose variables the command gets.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = _active_projects()

    def clean_env(self) -> dict[str, str]:
        variables: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["env"].splitlines(), start=1):
            if not line.strip():
                continue
            name, separator, value = line.partition("=")
            name = name.strip()
            if not separator or not VARIABLE_NAME.match(name):
                raise forms.ValidationError(f"Line {number}: write NAME=value (letters, digits, underscores).")
            variables[name] = value
        return variables

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"project": data["project"], "command": data["command"], "env": data["env"],
                "junit_path": data["junit_path"], "timeout_seconds": data["timeout_seconds"],
                "workspace_path": data["workspace_path"] or None, "workspace_archive": data["workspace_archive"],
                "environment": data["environment"] or None}


class JUnitUploadForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    file = forms.FileField(label="JUnit XML report", widget=forms.ClearableFileInput(attrs={"accept": ".xml,text/xml"}))
    name = forms.CharField(max_length=200, required=False, help_text="e.g. the CI job's name")
    branch = forms.CharField(max_length=200, required=False)
    commit = forms.CharField(max_length=100, required=False)
    build_url = forms.URLField(max_length=500, required=False, assume_scheme="https", label="Build URL")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = _active_projects()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ARGUS_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(f"The report is larger than {settings.ARGUS_UPLOAD_MAX_BYTES // 2**20} MB.")
        return upload

    def metadata(self) -> dict[str, str]:
        return {key: self.cleaned_data[key] for key in ("name", "branch", "commit", "build_url")
                if self.cleaned_data[key]}


class ScheduleForm(forms.Form):
    suite = forms.ModelChoiceField(queryset=Suite.objects.none())
    name = forms.CharField(max_length=200)
    cron = forms.CharField(max_length=100, label="Cron expression",
                           help_text="Five fields: minute hour day-of-month month day-of-week, e.g. 0 3 * * 1-5.",
                           widget=forms.TextInput(attrs={"spellcheck": "false", "placeholder": "0 3 * * *",
                                                         "data-cron-input": ""}))
    timezone = forms.CharField(max_length=64, initial="UTC", help_text="An IANA name, e.g. Europe/Berlin.",
                               widget=forms.TextInput(attrs={"list": "timezones", "spellcheck": "false"}))
    environment = forms.ChoiceField(choices=ENVIRONMENT_CHOICES, required=False)
    devices = forms.MultipleChoiceField(choices=DEVICE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
                                        help_text="None chosen: the suite's default devices.")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suite"].queryset = (Suite.objects.select_related("project")
                                         .filter(project__archived_at__isnull=True)
                                         .order_by("project__name", "name"))
        self.fields["suite"].label_from_instance = lambda suite: f"{suite.project.name} / {suite.name}"

    @classmethod
    def initial_for(cls, schedule: Schedule) -> dict[str, Any]:
        return {"suite": schedule.suite_id, "name": schedule.name, "cron": schedule.cron,
                "timezone": schedule.timezone, "environment": schedule.environment.name if schedule.environment else "",
                "devices": schedule.devices, "enabled": schedule.enabled}

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"suite": data["suite"], "name": data["name"], "cron": data["cron"].strip(),
                "timezone": data["timezone"].strip(), "environment": data["environment"] or None,
                "devices": data["devices"], "enabled": data["enabled"]}


class ScheduleToggleForm(forms.Form):
    enabled = forms.BooleanField(required=False)
