"""Forms of the test and suite pages. They check shapes; the services own the rules."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from apps.generated_tests.dsl import definition_errors
from apps.generated_tests.models import Suite, Test, TestOrigin, TestStatus
from apps.projects.models import EnvironmentName, Project
from apps.test_runs.devices import DEVICE_CHOICES

STEP_KEY = re.compile(r"^steps\[(\d+)\]")
# Status changes offered on a test's page; anything else goes through the editor or the API.
STATUS_ACTIONS = {"approve": TestStatus.APPROVED, "reject": TestStatus.REJECTED, "archive": TestStatus.ARCHIVED,
                  "draft": TestStatus.DRAFT, "review": TestStatus.PENDING_REVIEW}
EMPTY_DEFINITION = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def active_projects():
    return Project.objects.filter(archived_at__isnull=True).order_by("name")


def step_errors_of(details: dict[str, Any]) -> tuple[dict[int, list[str]], list[str]]:
    """Split DSL errors ({"steps[2]": [...], "definition": [...]}) into per-step and document messages."""
    by_step: dict[int, list[str]] = {}
    general: list[str] = []
    for key, messages in details.items():
        messages = [str(message) for message in (messages if isinstance(messages, list | tuple) else [messages])]
        match = STEP_KEY.match(str(key))
        if match:
            by_step.setdefault(int(match.group(1)), []).extend(messages)
        else:
            general.extend(messages)
    return by_step, general


def parse_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.replace("\n", ",").split(",") if tag.strip()]


class TestFilterForm(forms.Form):
    """The filters of the test list; the same names as the API's (?project=&status=&origin=&tag=&search=)."""

    project = forms.ModelChoiceField(queryset=Project.objects.order_by("name"), required=False,
                                     empty_label="All projects")
    status = forms.ChoiceField(choices=[("", "Any status"), *TestStatus.choices], required=False)
    origin = forms.ChoiceField(choices=[("", "Any origin"), *TestOrigin.choices], required=False)
    tag = forms.CharField(max_length=50, required=False)
    search = forms.CharField(max_length=200, required=False,
                             widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or description"}))


class TestForm(forms.Form):
    """Create or edit a test. `definition` holds the whole steps document as JSON: the step editor
    (static/js/step-editor.js) writes it; without JavaScript people edit the JSON directly."""

    project = forms.ModelChoiceField(queryset=Project.objects.none())
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    tags = forms.CharField(required=False, max_length=1000, help_text="Separated by commas, e.g. checkout, smoke")
    definition = forms.CharField(
        label="Steps (JSON)", widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code-input",
                                                           "data-definition-input": ""}),
        help_text="Steps DSL v1: {\"version\": 1, \"start_url\": \"/\", \"steps\": [...]}.",
    )
    change_note = forms.CharField(required=False, max_length=300, label="What changed",
                                  help_text="Kept with the new version in the history.")

    def __init__(self, *args, test: Test | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.test = test
        self.step_errors: dict[int, list[str]] = {}
        if test is None:
            self.fields["project"].queryset = active_projects()
            del self.fields["change_note"]
        else:
            del self.fields["project"]

    @classmethod
    def initial_for(cls, test: Test | None) -> dict[str, Any]:
        if test is None:
            return {"definition": json.dumps(EMPTY_DEFINITION, indent=2)}
        return {"name": test.name, "description": test.description, "tags": ", ".join(test.tags),
                "definition": json.dumps(test.definition, indent=2, ensure_ascii=False)}

    def clean_definition(self) -> dict:
        text = self.cleaned_data["definition"]
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.") from exc
        self.add_definition_errors(definition_errors(document), raise_now=True)
        return document

    def add_definition_errors(self, details: dict[str, Any], raise_now: bool = False) -> None:
        """Per-step errors go next to their step (the editor reads `step_errors`), and a summary on the field."""
        if not details:
            return
        self.step_errors, general = step_errors_of(details)
        summary = general + [f"Step {index + 1}: {message}" for index, messages in sorted(self.step_errors.items())
                             for message in messages]
        if raise_now:
            raise forms.ValidationError(summary)
        for message in summary:
            self.add_error("definition", message)

    def step_errors_json(self) -> str:
        return json.dumps({str(index): messages for index, messages in self.step_errors.items()})

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments = {"name": data["name"], "description": data["description"], "tags": parse_tags(data["tags"]),
                     "definition": data["definition"]}
        if "change_note" in self.fields:
            arguments["change_note"] = data["change_note"]
        return arguments


class TestStatusForm(forms.Form):
    action = forms.ChoiceField(choices=[(key, key) for key in STATUS_ACTIONS])

    @property
    def status(self) -> str:
        return STATUS_ACTIONS[self.cleaned_data["action"]]


class TestImportForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    file = forms.FileField(label="Steps file (JSON)",
                           help_text="One test ({\"name\", \"steps\", ...}), a list of them, or {\"tests\": [...]}.",
                           widget=forms.ClearableFileInput(attrs={"accept": "application/json,.json"}))
    origin = forms.ChoiceField(choices=TestOrigin.choices, initial=TestOrigin.MANUAL)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = active_projects()

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
        try:
            return json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise forms.ValidationError(f"The file is not valid JSON: {exc}") from exc


class SuiteForm(forms.Form):
    """A suite's fields. Its tests come as checkboxes `tests` with a number `position_<id>` each, so the
    order can be set without JavaScript; static/js/step-editor.js adds up/down buttons."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    default_environment = forms.ChoiceField(choices=[("", "The project's base URL"), *EnvironmentName.choices],
                                            required=False)
    default_devices = forms.MultipleChoiceField(choices=DEVICE_CHOICES, required=False,
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text="None chosen: Desktop.")

    def __init__(self, *args, project: Project, suite: Suite | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.suite = suite
        self.available_tests = list(Test.objects.filter(project=project).order_by("name"))

    @classmethod
    def initial_for(cls, suite: Suite) -> dict[str, Any]:
        return {"name": suite.name, "description": suite.description,
                "default_environment": suite.default_environment, "default_devices": suite.default_devices}

    def test_rows(self) -> list[dict[str, Any]]:
        """Every test of the project, chosen ones first in their order, for the ordered checklist."""
        if self.is_bound:
            chosen = self._posted_order()
        elif self.suite is not None:
            chosen = [str(pk) for pk in self.suite.ordered_tests().values_list("pk", flat=True)]
        else:
            chosen = []
        by_id = {str(test.pk): test for test in self.available_tests}
        ordered = [by_id[test_id] for test_id in chosen if test_id in by_id]
        ordered += [test for test in self.available_tests if str(test.pk) not in chosen]
        return [{"test": test, "chosen": str(test.pk) in chosen, "position": position + 1}
                for position, test in enumerate(ordered)]

    def _posted_order(self) -> list[str]:
        ids = list(dict.fromkeys(self.data.getlist("tests")))

        def position(item: tuple[int, str]) -> tuple[float, int]:
            index, test_id = item
            try:
                return float(self.data.get(f"position_{test_id}", "")), index
            except ValueError:
                return float("inf"), index

        return [test_id for _index, test_id in sorted(enumerate(ids), key=position)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["tests"] = self._posted_order()
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "description": data["description"],
                "default_environment": data["default_environment"], "default_devices": data["default_devices"],
                "tests": data["tests"]}


class SuiteRunForm(forms.Form):
    environment = forms.ChoiceField(required=False)
    devices = forms.MultipleChoiceField(choices=DEVICE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
                                        help_text="None chosen: the suite's default devices.")
    retries = forms.IntegerField(min_value=0, max_value=3, initial=0,
                                 help_text="A failing test is tried again up to this many times (0-3).")

    def __init__(self, *args, suite: Suite, **kwargs):
        kwargs.setdefault("initial", {"devices": suite.default_devices, "retries": 0})
        super().__init__(*args, **kwargs)
        environments = {env.name: f"{env.get_name_display()} ({env.url})" for env in suite.project.environments.all()}
        # No choice means the suite's default environment (run_create falls back to it), else the base URL.
        default = environments.get(suite.default_environment) or f"Base URL ({suite.project.base_url})"
        self.fields["environment"].choices = [("", f"Default: {default}"), *environments.items()]
