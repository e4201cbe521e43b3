from django.apps import AppConfig


class RiskScoresConfig(AppConfig):
    name = "apps.risk_scores"
    label = "risk_scores"
    verbose_name = "Risk"
