from django import forms

from apps.healing.models import HealingMode, HealingSettings


class HealingSettingsForm(forms.Form):
    mode = forms.ChoiceField(choices=HealingMode.choices, label="When a locator breaks")
    auto_apply_min_confidence = forms.FloatField(
        min_value=0.5, max_value=1, label="Apply automatically from confidence",
        help_text="In “apply automatically” mode, heals at least this sure become a new test version; the others "
                  "wait for review.", widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    allow_ai = forms.BooleanField(required=False, label="Ask AI when the heuristics are unsure",
                                  help_text="Off until the AI gateway exists; the organization can opt out of AI.")

    @classmethod
    def for_settings(cls, settings_row: HealingSettings) -> "HealingSettingsForm":
        return cls(initial={"mode": settings_row.mode, "allow_ai": settings_row.allow_ai,
                            "auto_apply_min_confidence": settings_row.auto_apply_min_confidence})
