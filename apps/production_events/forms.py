"""Forms of the error pages. They check shapes; the services own the rules."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from apps.production_events.models import DeliveryStatus, EventStatus, Severity, Source
from apps.production_events.selectors import EventFilters
from apps.production_events.services import MAX_NOTE_LENGTH, SIMILARITY_THRESHOLD_RANGE
from apps.projects.models import Project

PERIODS = {"24h": datetime.timedelta(hours=24), "7d": datetime.timedelta(days=7),
           "30d": datetime.timedelta(days=30), "90d": datetime.timedelta(days=90)}
PERIOD_CHOICES = [("", "Any time"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"),
                  ("90d", "Last 90 days")]


class EventFilterForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.order_by("name"), required=False,
                                     empty_label="All projects")
    source = forms.ChoiceField(choices=[("", "Any source"), *Source.choices], required=False)
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *EventStatus.choices], required=False)
    entity = forms.CharField(required=False, max_length=500, label="Page, component or endpoint",
                             widget=forms.TextInput(attrs={"placeholder": "/cart", "spellcheck": "false"}))
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, label="Seen")
    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.SearchInput(attrs={"placeholder": "TypeError, checkout…"}))
    group = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def filters(self) -> EventFilters:
        data = dict(self.cleaned_data)
        period = data.pop("period", "")
        if period:
            data["since"] = timezone.now() - PERIODS[period]
        return EventFilters.from_data(data)


class EventStatusForm(forms.Form):
    status = forms.ChoiceField(choices=EventStatus.choices)
    note = forms.CharField(required=False, max_length=MAX_NOTE_LENGTH,
                           widget=forms.TextInput(attrs={"placeholder": "Why (optional, kept in the audit log)"}))


class BulkStatusForm(forms.Form):
    events = forms.TypedMultipleChoiceField(required=True, coerce=str, choices=())
    status = forms.ChoiceField(choices=[("", "Set status…"), *EventStatus.choices])
    note = forms.CharField(required=False, max_length=MAX_NOTE_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is shaped here; the service refuses ids that are not this organization's events.
        self.fields["events"].valid_value = lambda value: True
        self.fields["events"].error_messages["required"] = "Select at least one event."
        self.fields["status"].error_messages["required"] = "Choose the status to set."


class ErrorSettingsForm(forms.Form):
    similarity_threshold = forms.FloatField(
        min_value=SIMILARITY_THRESHOLD_RANGE[0], max_value=SIMILARITY_THRESHOLD_RANGE[1], label="Similarity threshold",
        help_text="Error groups at least this similar (0.5–1.0) are proposed as duplicates.",
        widget=forms.NumberInput(attrs={"step": "0.01"}))
    auto_merge = forms.BooleanField(required=False, label="Merge near-duplicates automatically",
                                    help_text="Instead of proposing them for review.")


class DeliveryFilterForm(forms.Form):
    delivery_status = forms.ChoiceField(choices=[("", "Any status"), *DeliveryStatus.choices], required=False,
                                        label="Delivery status")


class GroupFilterForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.order_by("name"), required=False,
                                     empty_label="All projects")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *Severity.choices], required=False)
    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.SearchInput(attrs={"placeholder": "TypeError, checkout…"}))
