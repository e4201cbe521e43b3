"""The risk dashboard and coverage-gaps pages: what they show, who may recalculate, and isolation."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.generated_tests import services as test_services
from apps.production_events.models import Severity
from apps.projects.services import project_create
from apps.risk_scores.models import RiskScore
from apps.risk_scores.services import recalculate_project_risk
from tests.api_endpoints import org_state
from tests.risk_scores.endpoints import make_error

CHART_SCRIPT = "/static/vendor/chart.js/chart-4.6.1.umd.min.js"


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def _shop(org, name: str = "Risky shop"):
    with tenant_context(org.organization):
        project = project_create(actor=org.admin, name=name, base_url="https://shop.example.com/")
        make_error(project, fingerprint="a", url_path="/checkout", component="CheckoutForm", api_endpoint="",
                   severity=Severity.FATAL, occurrences=300, users=80, daily={0: 20, 3: 15, 9: 2})
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


def test_dashboard_shows_entities_charts_and_the_vendored_chart_js(alpha, shop):
    response = browser(alpha, alpha.viewer).get(reverse("risk_dashboard"), {"project": str(shop.pk)})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="{CHART_SCRIPT}"' in html and 'src="/static/js/risk-dashboard.js"' in html
    assert '<canvas data-risk-chart="scores"' in html and '<canvas data-risk-chart="occurrences"' in html
    rows = re.findall(r'data-risk-entity="([^"]+)"', html)
    assert rows == ["CheckoutForm", "/checkout", "/search"]  # by score; equal scores by entity type
    assert "No approved test" in html and "Covered" in html and "Degrading" in html
    data = json.loads(unescape(re.search(r'<script id="risk-chart-data" type="application/json">(.*?)</script>',
                                         html, re.S).group(1)))
    assert len(data["labels"]) == 30 and len(data["occurrences"]) == 30
    assert data["occurrences"][-1] == 20 and data["occurrences"][-4] == 15
    assert [series["label"] for series in data["scores"]] == ["Component CheckoutForm", "Page /checkout",
                                                               "Page /search"]
    with tenant_context(alpha.organization):
        checkout = RiskScore.objects.get(project=shop, entity="/checkout")
    # Today's point is the current score; the days before have no snapshot yet (gaps, not zeros).
    assert data["scores"][1]["data"][-1] == checkout.score and data["scores"][1]["data"][0] is None
    # The Content-Security-Policy forbids inline scripts and styles.
    assert "style=" not in html
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html) if "application/json" not in tag)


def test_the_chosen_project_and_entity_type_filter_the_table(alpha, shop):
    with tenant_context(alpha.organization):
        quiet = project_create(actor=alpha.admin, name="Quiet blog", base_url="https://blog.example.com/")

    client = browser(alpha, alpha.viewer)
    components = client.get(reverse("risk_dashboard"), {"project": str(shop.pk), "entity_type": "component"})
    empty = client.get(reverse("risk_dashboard"), {"project": str(quiet.pk)})

    assert re.findall(r'data-risk-entity="([^"]+)"', components.content.decode()) == ["CheckoutForm"]
    assert "No risk scores yet" in empty.content.decode()


def test_viewers_see_no_recalculate_button_and_cannot_post(alpha, shop):
    client = browser(alpha, alpha.viewer)
    assert "data-risk-recalculate" not in client.get(reverse("risk_dashboard")).content.decode()

    response = client.post(reverse("risk_recalculate"), {"project": str(shop.pk)})

    assert response.status_code == 403


def test_recalculate_by_htmx_answers_the_refreshed_panel(alpha, shop):
    client = browser(alpha, alpha.developer)
    assert "data-risk-recalculate" in client.get(reverse("risk_dashboard")).content.decode()
    with tenant_context(alpha.organization):
        make_error(shop, fingerprint="c", url_path="/cart", component="", api_endpoint="", occurrences=5000,
                   users=900, severity=Severity.FATAL)

    response = client.post(reverse("risk_recalculate"), {"project": str(shop.pk)}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the panel only
    assert "Risk recalculated: 4 entities scored." in html
    assert re.findall(r'data-risk-entity="([^"]+)"', html)[0] == "/cart"
    assert 'id="risk-chart-data"' in html


def test_recalculate_without_htmx_redirects_back(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("risk_recalculate"), {"project": str(shop.pk)})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('risk_dashboard')}?project={shop.pk}"


def test_coverage_gaps_page_lists_uncovered_entities_with_a_create_test_link(alpha, shop):
    response = browser(alpha, alpha.developer).get(reverse("risk_coverage_gaps"), {"project": str(shop.pk)})

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'data-risk-entity="([^"]+)"', html) == ["CheckoutForm", "/checkout"]
    assert f'href="{reverse("test_create")}?project={shop.pk}"' in html
    assert "No approved test" in html


@pytest.mark.parametrize("name", ["risk_dashboard", "risk_coverage_gaps"])
def test_another_orgs_project_is_not_found(name, alpha, bravo):
    bravo_shop = _shop(bravo, name="Bravo secret shop")

    response = browser(alpha, alpha.admin).get(reverse(name), {"project": str(bravo_shop.pk)})

    assert response.status_code == 404
    assert "Bravo secret shop" not in response.content.decode()


def test_recalculating_another_orgs_project_is_not_found_and_changes_nothing(alpha, bravo):
    bravo_shop = _shop(bravo, name="Bravo secret shop")
    before = org_state(bravo)

    response = browser(alpha, alpha.admin).post(reverse("risk_recalculate"), {"project": str(bravo_shop.pk)})

    assert response.status_code == 404
    assert org_state(bravo) == before


@pytest.mark.parametrize("name", ["risk_dashboard", "risk_coverage_gaps"])
def test_outsiders_and_anonymous_visitors_see_nothing(name, alpha, bravo, shop):
    outsider = browser(alpha, bravo.admin).get(reverse(name))
    anonymous = browser(alpha).get(reverse(name))

    assert outsider.status_code == 404 and "Risky shop" not in outsider.content.decode()
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/?next=")


def test_the_nav_links_to_the_dashboard(alpha, shop):
    html = browser(alpha, alpha.viewer).get(reverse("risk_dashboard")).content.decode()

    assert f'<a href="{reverse("risk_dashboard")}" aria-current="page">Risk</a>' in html
