"""/api/v1/ operations of risk_scores; argus/api_urls.py appends these patterns to its flat list."""

from django.urls import path

from apps.risk_scores.apis import CalculateRiskApi, CoverageGapListApi, RiskScoreDetailApi, RiskScoreListApi

urlpatterns = [
    path("risk-scores", RiskScoreListApi.as_view(), name="api-risk-scores"),
    path("risk-scores/<uuid:risk_score_id>", RiskScoreDetailApi.as_view(), name="api-risk-score-detail"),
    path("coverage-gaps", CoverageGapListApi.as_view(), name="api-coverage-gaps"),
    path("quality/calculate-risk", CalculateRiskApi.as_view(), name="api-quality-calculate-risk"),
]
