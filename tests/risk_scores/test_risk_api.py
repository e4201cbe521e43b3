"""The risk API: lists by score, detail with history, coverage gaps and the on-demand recalculation."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.audit.models import AuditEntry
from apps.generated_tests import services as test_services
from apps.production_events.models import Severity
from apps.projects.services import project_create
from apps.risk_scores.models import RiskScore
from apps.risk_scores.services import recalculate_project_risk
from tests.conftest import error_of
from tests.risk_scores.endpoints import make_error


def _shop(org, name: str = "Risky shop", errors: bool = True):
    with tenant_context(org.organization):
        project = project_create(actor=org.admin, name=name, base_url="https://shop.example.com/")
        if errors:
            make_error(project, fingerprint="a", url_path="/checkout", component="CheckoutForm",
                       api_endpoint="POST /api/orders", severity=Severity.FATAL, occurrences=300, users=80,
                       daily={0: 20, 1: 15, 9: 2})
            make_error(project, fingerprint="b", url_path="/search", component="", api_endpoint="",
                       severity=Severity.WARNING, occurrences=3, users=1, daily={1: 1, 9: 2})
            test_services.test_create(project=project, actor=org.admin, name="Search works", status="approved",
                                      definition={"version": 1, "start_url": "/search",
                                                  "steps": [{"action": "screenshot"}]})
            recalculate_project_risk(project)
    return project


@pytest.fixture
def shop(alpha):
    return _shop(alpha)


def test_list_is_ordered_by_score_with_explained_factors(alpha, shop, api_client):
    response = api_client(alpha, user=alpha.viewer).get("/api/v1/risk-scores", {"project": str(shop.pk)})

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    assert {(row["entity_type"], row["entity"]) for row in rows} == {
        ("page", "/checkout"), ("component", "CheckoutForm"), ("api_endpoint", "POST /api/orders"),
        ("page", "/search")}
    for row in rows:
        assert row["score"] == pytest.approx(sum(factor["contribution"] for factor in row["factors"]), abs=0.01)
        assert {factor["name"] for factor in row["factors"]} == {
            "frequency", "severity", "affected_users", "trend", "test_coverage", "recent_failures"}
    checkout = next(row for row in rows if row["entity"] == "/checkout")
    assert checkout["trend"] == "degrading" and checkout["has_approved_test"] is False
    assert checkout["occurrences"] == 300 and checkout["affected_users"] == 80


def test_list_filters_by_entity_type_and_trend(alpha, shop, api_client):
    client = api_client(alpha, user=alpha.viewer)

    components = client.get("/api/v1/risk-scores", {"project": str(shop.pk), "entity_type": "component"}).json()
    degrading = client.get("/api/v1/risk-scores", {"trend": "degrading"}).json()

    assert [row["entity"] for row in components["results"]] == ["CheckoutForm"]
    assert {row["entity"] for row in degrading["results"]} == {"/checkout", "CheckoutForm", "POST /api/orders"}


@pytest.mark.parametrize("query", [{"entity_type": "planet"}, {"trend": "sideways"}, {"project": "not-a-uuid"},
                                   {"project": "00000000-0000-0000-0000-000000000000"}])
def test_bad_filters_answer_400(alpha, shop, api_client, query):
    response = api_client(alpha, user=alpha.viewer).get("/api/v1/risk-scores", query)

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"


def test_lists_show_only_the_hosts_organization(alpha, bravo, shop, api_client):
    bravo_shop = _shop(bravo, name="Bravo shop")
    with tenant_context(bravo.organization):
        bravo_ids = {str(pk) for pk in RiskScore.objects.filter(project=bravo_shop).values_list("pk", flat=True)}
    with tenant_context(alpha.organization):
        alpha_ids = {str(pk) for pk in RiskScore.objects.values_list("pk", flat=True)}
    assert bravo_ids and alpha_ids

    client = api_client(alpha, user=alpha.admin)
    for path in ("/api/v1/risk-scores", "/api/v1/coverage-gaps"):
        listed = {row["id"] for row in client.get(path, {"page_size": 200}).json()["results"]}
        assert listed and listed <= alpha_ids
        assert not listed & bravo_ids


def test_detail_has_factors_and_daily_history(alpha, shop, api_client):
    with tenant_context(alpha.organization):
        score = RiskScore.objects.get(project=shop, entity="/checkout")

    response = api_client(alpha, user=alpha.viewer).get(f"/api/v1/risk-scores/{score.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["entity"] == "/checkout" and len(body["factors"]) == 6
    assert body["history"] == [{"day": score.calculated_at.date().isoformat(), "score": score.score}]


def test_coverage_gaps_lists_uncovered_entities_only(alpha, shop, api_client):
    response = api_client(alpha, user=alpha.viewer).get("/api/v1/coverage-gaps", {"project": str(shop.pk)})

    assert response.status_code == 200
    entities = [row["entity"] for row in response.json()["results"]]
    # /search is covered by the approved "Search works" test.
    assert set(entities) == {"/checkout", "CheckoutForm", "POST /api/orders"}
    assert all(row["has_approved_test"] is False for row in response.json()["results"])


def test_calculate_risk_recalculates_and_answers_the_top_entities(alpha, api_client):
    project = _shop(alpha, errors=False)
    with tenant_context(alpha.organization):
        make_error(project, url_path="/cart", component="", api_endpoint="", occurrences=50)
    client = api_client(alpha, user=alpha.developer)

    response = client.post("/api/v1/quality/calculate-risk", {"project": str(project.pk)}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["project"] == str(project.pk) and body["recalculated"] == 1
    assert [row["entity"] for row in body["top"]] == ["/cart"]
    with tenant_context(alpha.organization):
        assert RiskScore.objects.filter(project=project, entity="/cart").exists()
        entry = AuditEntry.objects.get(action="risk.recalculated")
        assert entry.actor_email == alpha.developer.email and entry.object_id == str(project.pk)


@pytest.mark.parametrize("body", [{}, {"project": "nope"}, {"project": "00000000-0000-0000-0000-000000000000"}])
def test_calculate_risk_refuses_a_missing_or_unknown_project(alpha, api_client, body):
    response = api_client(alpha, user=alpha.admin).post("/api/v1/quality/calculate-risk", body, format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert "project" in error_of(response)["details"]


def test_viewers_cannot_recalculate(alpha, shop, api_client):
    response = api_client(alpha, user=alpha.viewer).post("/api/v1/quality/calculate-risk", {"project": str(shop.pk)},
                                                         format="json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
