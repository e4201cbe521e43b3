"""The risk formula: six factors, each worth at most its weight, whose contributions add up to the score (0-100).

| factor | weight | contribution |
| --- | --- | --- |
| frequency | 30 | 30 × min(1, log10(1 + occurrences) / log10(1 + 1000)): 1 → 3.0, 10 → 10.4, 100 → 20.0, 1000+ → 30 |
| severity | 20 | 20 × the worst severity's level: fatal 1.0, error 0.75, warning 0.4, info 0.1 |
| affected users | 20 | 20 × min(1, log10(1 + users) / log10(1 + 1000)), users summed over the entity's groups |
| trend | 10 | degrading 10, stable with occurrences in the last 14 days 5, improving or quiet 0 |
| test coverage | 10 | 10 when no approved test covers the entity, 0 when one does |
| recent failures | 10 | 10 × min(1, failures / 3): failed or errored results of covering approved tests, 7 days |

Frequencies and users grow on a log scale: the difference between 1 and 10 occurrences matters as much as
between 100 and 1000. Each contribution is rounded to one decimal and the score is their sum, so what the
dashboard shows always adds up.

Trend compares occurrences of the last 7 days (today included) with the 7 days before. It is degrading
when the recent week has at least 3 more occurrences and at least 25 % more than the week before (so a
brand-new error with 3+ occurrences is degrading), improving when it has at least 3 fewer and at most
75 % of the week before, stable otherwise. Small numbers never flip the trend by themselves.

Pure functions, no database: apps.risk_scores.services gathers the inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from apps.production_events.models import Severity
from apps.risk_scores.models import RiskTrend

WEIGHTS = {
    "frequency": 30.0,
    "severity": 20.0,
    "affected_users": 20.0,
    "trend": 10.0,
    "test_coverage": 10.0,
    "recent_failures": 10.0,
}
LABELS = {
    "frequency": "Frequency",
    "severity": "Severity",
    "affected_users": "Affected users",
    "trend": "Trend",
    "test_coverage": "Test coverage",
    "recent_failures": "Recent test failures",
}
# Occurrences (and users) at which the log-scaled factors reach their full weight.
SATURATION = 1000
SEVERITY_LEVEL = {Severity.FATAL: 1.0, Severity.ERROR: 0.75, Severity.WARNING: 0.4, Severity.INFO: 0.1}
SEVERITY_ORDER = [Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.FATAL]
# The trend needs a change of at least this many occurrences and this ratio between the two weeks.
TREND_MIN_CHANGE = 3
TREND_DEGRADING_RATIO = 1.25
TREND_IMPROVING_RATIO = 0.75
TREND_POINTS = {"degrading": 10.0, "stable": 5.0, "quiet": 0.0, "improving": 0.0}
# Failures in the window at which the factor reaches its full weight.
FAILURES_SATURATION = 3
TREND_WINDOW_DAYS = 7
FAILURE_WINDOW_DAYS = 7


@dataclass
class EntityInputs:
    """What is known about one entity when its risk is computed."""

    occurrences: int = 0
    worst_severity: str = Severity.INFO
    affected_users: int = 0
    recent_occurrences: int = 0  # the last 7 days
    previous_occurrences: int = 0  # the 7 days before
    covering_tests: list[str] = field(default_factory=list)  # names of approved tests that cover it
    recent_failures: int = 0


@dataclass
class Risk:
    score: float
    trend: str
    factors: list[dict]


def worse_severity(first: str, second: str) -> str:
    rank = {value: index for index, value in enumerate(SEVERITY_ORDER)}
    return first if rank.get(first, 0) >= rank.get(second, 0) else second


def trend_of(recent: int, previous: int) -> str:
    change = recent - previous
    if change >= TREND_MIN_CHANGE and recent >= previous * TREND_DEGRADING_RATIO:
        return RiskTrend.DEGRADING
    if -change >= TREND_MIN_CHANGE and recent <= previous * TREND_IMPROVING_RATIO:
        return RiskTrend.IMPROVING
    return RiskTrend.STABLE


def _log_share(count: int) -> float:
    return min(1.0, math.log10(1 + max(count, 0)) / math.log10(1 + SATURATION))


def _factor(name: str, value, share: float, explanation: str) -> dict:
    return {"name": name, "label": LABELS[name], "value": value, "weight": WEIGHTS[name],
            "contribution": round(WEIGHTS[name] * share, 1), "explanation": explanation}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def compute_risk(inputs: EntityInputs) -> Risk:
    trend = trend_of(inputs.recent_occurrences, inputs.previous_occurrences)
    active = inputs.recent_occurrences + inputs.previous_occurrences > 0
    trend_points_key = trend if trend != RiskTrend.STABLE else ("stable" if active else "quiet")
    weeks = (f"{inputs.recent_occurrences} in the last 7 days against {inputs.previous_occurrences} "
             "in the 7 days before")
    trend_explanation = {
        RiskTrend.DEGRADING: f"Degrading: {weeks}.",
        RiskTrend.IMPROVING: f"Improving: {weeks}.",
        "stable": f"Stable: {weeks}.",
        "quiet": "Quiet: no occurrences in the last 14 days.",
    }[trend_points_key]
    covered = bool(inputs.covering_tests)
    if covered:
        names = ", ".join(f"“{name}”" for name in inputs.covering_tests[:3])
        more = len(inputs.covering_tests) - 3
        coverage_explanation = f"Covered by approved test {names}" + (f" and {more} more." if more > 0 else ".")
    else:
        coverage_explanation = "No approved test covers it."
    factors = [
        _factor("frequency", inputs.occurrences, _log_share(inputs.occurrences),
                f"{_plural(inputs.occurrences, 'occurrence')} in total; full weight at {SATURATION}."),
        _factor("severity", inputs.worst_severity, SEVERITY_LEVEL.get(inputs.worst_severity, 0.0),
                f"The worst of its errors is {inputs.worst_severity}."),
        _factor("affected_users", inputs.affected_users, _log_share(inputs.affected_users),
                f"{_plural(inputs.affected_users, 'user')} affected (summed over its error groups); "
                f"full weight at {SATURATION}."),
        _factor("trend", trend, TREND_POINTS[trend_points_key] / WEIGHTS["trend"], trend_explanation),
        _factor("test_coverage", len(inputs.covering_tests), 0.0 if covered else 1.0, coverage_explanation),
        _factor("recent_failures", inputs.recent_failures, min(1.0, inputs.recent_failures / FAILURES_SATURATION),
                f"{_plural(inputs.recent_failures, 'failed result')} of its covering approved tests "
                f"in the last {FAILURE_WINDOW_DAYS} days."),
    ]
    score = round(sum(factor["contribution"] for factor in factors), 1)
    return Risk(score=score, trend=trend, factors=factors)
