"""The risk formula and its recalculation from real error groups, tests and results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.generated_tests import services as test_services
from apps.production_events.models import ErrorGroup, Severity
from apps.projects.services import project_create
from apps.risk_scores.models import RiskScore, RiskSnapshot
from apps.risk_scores.scoring import EntityInputs, compute_risk, trend_of
from apps.risk_scores.selectors import coverage_gaps, risk_for_event
from apps.risk_scores.services import recalculate_project_risk, visited_pages
from apps.test_runs.models import ResultStatus, Run, TestResult
from tests.risk_scores.endpoints import make_error

FACTORS = ["frequency", "severity", "affected_users", "trend", "test_coverage", "recent_failures"]


def covering_definition(path: str) -> dict:
    return {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": path}]}


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        yield project_create(actor=alpha.admin, name="Risky shop", base_url="https://shop.example.com/")


def scores_by_entity(project) -> dict[tuple[str, str], RiskScore]:
    return {(score.entity_type, score.entity): score for score in RiskScore.objects.filter(project=project)}


# ------------------------------------------------------------------------------------------ the formula


def test_factors_sum_to_the_score_and_each_stays_within_its_weight():
    for inputs in (EntityInputs(), EntityInputs(occurrences=7, worst_severity=Severity.WARNING, affected_users=2),
                   EntityInputs(occurrences=10**6, worst_severity=Severity.FATAL, affected_users=10**5,
                                recent_occurrences=50, previous_occurrences=1, recent_failures=9)):
        risk = compute_risk(inputs)
        assert [factor["name"] for factor in risk.factors] == FACTORS
        assert risk.score == pytest.approx(sum(factor["contribution"] for factor in risk.factors), abs=1e-9)
        assert 0 <= risk.score <= 100
        for factor in risk.factors:
            assert 0 <= factor["contribution"] <= factor["weight"], factor
            assert factor["explanation"]


def test_the_worst_case_scores_100_and_a_covered_quiet_info_error_scores_little():
    worst = compute_risk(EntityInputs(occurrences=5000, worst_severity=Severity.FATAL, affected_users=5000,
                                      recent_occurrences=40, previous_occurrences=0, recent_failures=3))
    mild = compute_risk(EntityInputs(occurrences=1, worst_severity=Severity.INFO, affected_users=0,
                                     covering_tests=["Checkout works"]))
    assert worst.score == 100.0
    assert mild.score == pytest.approx(3.0 + 2.0)  # one occurrence (3.0) and severity info (2.0)


@pytest.mark.parametrize(("recent", "previous", "trend"), [
    (12, 3, "degrading"), (3, 0, "degrading"), (2, 0, "stable"), (10, 9, "stable"), (11, 10, "stable"),
    (1, 8, "improving"), (0, 3, "improving"), (7, 9, "stable"), (0, 0, "stable"),
])
def test_trend_rule(recent, previous, trend):
    assert trend_of(recent, previous) == trend


@pytest.mark.parametrize(("bigger", "smaller"), [
    (EntityInputs(occurrences=500), EntityInputs(occurrences=5)),
    (EntityInputs(occurrences=5, worst_severity=Severity.FATAL), EntityInputs(occurrences=5)),
    (EntityInputs(occurrences=5, affected_users=300), EntityInputs(occurrences=5, affected_users=3)),
    (EntityInputs(occurrences=5, recent_occurrences=9), EntityInputs(occurrences=5, previous_occurrences=9)),
    (EntityInputs(occurrences=5), EntityInputs(occurrences=5, covering_tests=["Checkout"])),
    (EntityInputs(occurrences=5, covering_tests=["Checkout"], recent_failures=2),
     EntityInputs(occurrences=5, covering_tests=["Checkout"])),
])
def test_each_factor_moves_the_score_the_right_way(bigger, smaller):
    assert compute_risk(bigger).score > compute_risk(smaller).score


def test_visited_pages_reads_start_url_and_goto_steps_as_page_paths():
    definition = {"version": 1, "start_url": "https://shop.example.com/orders/42?tab=items", "steps": [
        {"action": "goto", "url": "{{ env.BASE_URL }}/checkout/"},
        {"action": "click", "target": {"locators": [{"kind": "css", "value": "a[href='/cart']"}]}},
        {"action": "goto", "url": "/users/9f1c2b7e-51d9-4a11-8a5e-2f7d0c9a1b3c/profile"},
    ]}
    assert visited_pages(definition) == {"/orders/:id", "/checkout", "/users/:id/profile"}


# ------------------------------------------------------------------------------------- the recalculation


def test_more_frequent_severe_and_widespread_errors_rank_higher(alpha, project):
    with tenant_context(alpha.organization):
        make_error(project, fingerprint="a", url_path="/checkout", component="Checkout", api_endpoint="",
                   severity=Severity.FATAL, occurrences=400, users=120)
        make_error(project, fingerprint="b", url_path="/search", component="SearchBox", api_endpoint="",
                   severity=Severity.WARNING, occurrences=4, users=1)

        scores = recalculate_project_risk(project)

        pages = [score.entity for score in scores if score.entity_type == "page"]
        assert pages == ["/checkout", "/search"]
        by_entity = scores_by_entity(project)
        checkout, search = by_entity[("page", "/checkout")], by_entity[("page", "/search")]
        assert checkout.score > search.score
        for name in ("frequency", "severity", "affected_users"):
            assert _contribution(checkout, name) > _contribution(search, name)
        assert checkout.occurrences == 400 and checkout.affected_users == 120 and checkout.groups_count == 1
        # Each group also scores its component, with the same evidence.
        assert by_entity[("component", "Checkout")].occurrences == 400


def test_an_approved_test_visiting_the_page_lowers_its_risk_and_closes_the_gap(alpha, project):
    with tenant_context(alpha.organization):
        make_error(project, url_path="/checkout", component="CheckoutForm", api_endpoint="POST /api/orders")
        recalculate_project_risk(project)
        before = scores_by_entity(project)
        gaps_before = {score.entity for score in coverage_gaps(project=project)}
        # A draft test does not count; the same test approved does.
        test = test_services.test_create(project=project, actor=alpha.admin, name="Checkout works",
                                         definition=covering_definition("/checkout"))
        recalculate_project_risk(project)
        assert scores_by_entity(project)[("page", "/checkout")].score == before[("page", "/checkout")].score

        test_services.test_update(test=test, actor=alpha.admin, status="approved")
        recalculate_project_risk(project)

        after = scores_by_entity(project)
        page = after[("page", "/checkout")]
        assert page.has_approved_test
        assert page.score == pytest.approx(before[("page", "/checkout")].score - 10)
        coverage = next(factor for factor in page.factors if factor["name"] == "test_coverage")
        assert coverage["contribution"] == 0 and "Checkout works" in coverage["explanation"]
        # The component and the endpoint fail on that page, so the test covers them too.
        assert after[("component", "CheckoutForm")].has_approved_test
        assert after[("api_endpoint", "POST /api/orders")].has_approved_test
        assert gaps_before == {"/checkout", "CheckoutForm", "POST /api/orders"}
        assert not coverage_gaps(project=project).exists()


def test_coverage_gaps_are_the_uncovered_entities_riskiest_first(alpha, project):
    with tenant_context(alpha.organization):
        make_error(project, fingerprint="a", url_path="/checkout", component="", api_endpoint="", occurrences=900)
        make_error(project, fingerprint="b", url_path="/search", component="", api_endpoint="", occurrences=3)
        make_error(project, fingerprint="c", url_path="/account", component="", api_endpoint="", occurrences=90)
        test_services.test_create(project=project, actor=alpha.admin, name="Account", status="approved",
                                  definition=covering_definition("/account"))

        recalculate_project_risk(project)

        assert [score.entity for score in coverage_gaps(project=project)] == ["/checkout", "/search"]


def test_degrading_trend_is_read_from_the_daily_counts(alpha, project):
    with tenant_context(alpha.organization):
        make_error(project, fingerprint="rising", url_path="/cart", component="", api_endpoint="",
                   occurrences=30, daily={0: 10, 2: 8, 5: 6, 9: 2, 12: 1})
        make_error(project, fingerprint="falling", url_path="/search", component="", api_endpoint="",
                   occurrences=30, daily={1: 1, 8: 12, 10: 9})
        make_error(project, fingerprint="flat", url_path="/home", component="", api_endpoint="",
                   occurrences=30, daily={1: 5, 9: 5, 20: 40})

        recalculate_project_risk(project)

        by_entity = scores_by_entity(project)
        assert by_entity[("page", "/cart")].trend == "degrading"
        assert by_entity[("page", "/search")].trend == "improving"
        # 40 occurrences 20 days ago are outside both weeks.
        assert by_entity[("page", "/home")].trend == "stable"
        trend = next(factor for factor in by_entity[("page", "/cart")].factors if factor["name"] == "trend")
        assert trend["value"] == "degrading" and trend["contribution"] == 10
        assert "24 in the last 7 days against 3" in trend["explanation"]


def test_recent_failures_of_covering_approved_tests_raise_the_risk(alpha, project):
    with tenant_context(alpha.organization):
        make_error(project, url_path="/checkout", component="", api_endpoint="")
        test = test_services.test_create(project=project, actor=alpha.admin, name="Checkout works",
                                         status="approved", definition=covering_definition("/checkout"))
        before = recalculate_project_risk(project)[0].score
        run = Run.objects.create(project=project, number=1)
        now = timezone.now()
        for index, (status, finished) in enumerate([(ResultStatus.FAILED, now), (ResultStatus.ERROR, now),
                                                    (ResultStatus.PASSED, now),
                                                    (ResultStatus.FAILED, now - timedelta(days=9))]):
            TestResult.objects.create(run=run, test=test, name=test.name, position=index, status=status,
                                      finished_at=finished)

        score = recalculate_project_risk(project)[0]

        failures = next(factor for factor in score.factors if factor["name"] == "recent_failures")
        assert failures["value"] == 2  # the passed one and the one of 9 days ago don't count
        assert score.score == pytest.approx(before + failures["contribution"])


def test_merged_groups_are_left_out_and_vanished_entities_lose_their_row(alpha, project):
    with tenant_context(alpha.organization):
        survivor = make_error(project, fingerprint="a", url_path="/checkout", component="", api_endpoint="")
        merged = make_error(project, fingerprint="b", url_path="/legacy", component="", api_endpoint="")
        recalculate_project_risk(project)
        assert set(scores_by_entity(project)) == {("page", "/checkout"), ("page", "/legacy")}

        ErrorGroup.objects.filter(pk=merged.pk).update(merged_into=survivor)
        recalculate_project_risk(project)

        assert set(scores_by_entity(project)) == {("page", "/checkout")}


def test_one_snapshot_per_entity_and_day_however_often_it_runs(alpha, project):
    with tenant_context(alpha.organization):
        group = make_error(project, url_path="/checkout", component="", api_endpoint="", occurrences=2)
        first = recalculate_project_risk(project)[0].score
        ErrorGroup.objects.filter(pk=group.pk).update(occurrence_count=600)
        second = recalculate_project_risk(project)[0].score

        snapshots = list(RiskSnapshot.objects.filter(project=project, entity="/checkout"))
        assert second > first
        assert len(snapshots) == 1 and snapshots[0].score == second


def test_risk_for_event_returns_its_page_component_and_endpoint(alpha, project):
    with tenant_context(alpha.organization):
        group = make_error(project, url_path="/checkout", component="CheckoutForm", api_endpoint="POST /api/orders")
        make_error(project, fingerprint="other", url_path="/search", component="SearchBox", api_endpoint="")
        recalculate_project_risk(project)

        rows = risk_for_event(group.events.get())

        assert {(row.entity_type, row.entity) for row in rows} == {
            ("page", "/checkout"), ("component", "CheckoutForm"), ("api_endpoint", "POST /api/orders")}
        assert all(row.factors for row in rows)


def _contribution(score: RiskScore, name: str) -> float:
    return next(factor["contribution"] for factor in score.factors if factor["name"] == name)
