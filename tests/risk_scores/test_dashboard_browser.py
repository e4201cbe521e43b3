"""The risk dashboard in a real Chromium: Chart.js (vendored, no CDN) draws both charts under the CSP, the
htmx recalculation redraws them, and the page fits a 375 px phone.

The real ASGI server serves the page, so rows are committed (no `db` fixture); `committed_project` deletes them.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.production_events.models import Severity
from apps.risk_scores.services import recalculate_project_risk
from tests.conftest import user_email
from tests.risk_scores.endpoints import make_error
from tests.test_runs.test_live_page import chromium, sign_in, wait_for

# Non-transparent pixels of a canvas: proof that something was drawn on it.
PAINTED_PIXELS = """
const canvas = document.querySelector(`canvas[data-risk-chart="${arguments[0]}"]`);
const chart = window.Chart && window.Chart.getChart(canvas);
if (!chart) return null;
const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
let painted = 0;
for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
return {painted: painted, datasets: chart.data.datasets.length, points: chart.data.labels.length,
        type: chart.config.type};
"""


@pytest.fixture
def driver(tmp_path):
    with chromium(tmp_path) as browser:
        yield browser


def test_the_dashboard_draws_its_charts_and_redraws_them_after_a_recalculation(
        session_orgs, committed_project, django_db_blocker, asgi_server, driver):
    from selenium.webdriver.common.by import By

    alpha = session_orgs["alpha"]
    project = committed_project(alpha, name="Risk chart shop")
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        make_error(project, fingerprint="a", url_path="/checkout", component="CheckoutForm", api_endpoint="",
                   severity=Severity.FATAL, occurrences=120, users=40, daily={0: 30, 2: 20, 6: 10, 9: 3})
        make_error(project, fingerprint="b", url_path="/search", component="", api_endpoint="",
                   occurrences=8, users=2, daily={1: 4, 4: 4})
        recalculate_project_risk(project)
    base = asgi_server.url(alpha.host, "/")
    sign_in(driver, base, user_email(alpha.slug, "developer"))
    driver.get(f"{base}risk/?project={project.pk}")

    for chart in ("scores", "occurrences"):
        drawn = f"[data-risk-chart={chart}][data-chart-ready]"
        wait_for(driver, lambda b, css=drawn: b.find_elements(By.CSS_SELECTOR, css), f"Chart.js to draw {chart}")
    history = driver.execute_script(PAINTED_PIXELS, "scores")
    errors = driver.execute_script(PAINTED_PIXELS, "occurrences")
    assert history["type"] == "line" and history["datasets"] == 3 and history["points"] == 30
    assert errors["type"] == "bar" and errors["datasets"] == 1
    assert history["painted"] > 500 and errors["painted"] > 500, (history, errors)
    assert "/static/vendor/chart.js/" in driver.execute_script(
        "return document.querySelector('script[src*=\"chart\"]').src;")

    # The htmx recalculation swaps the panel in; the new canvases are drawn again.
    driver.execute_script("document.querySelector('[data-risk-chart=scores]').setAttribute('data-old', '1');")
    driver.find_element(By.CSS_SELECTOR, "[data-risk-recalculate]").click()
    wait_for(driver, lambda b: "Risk recalculated: 3 entities scored." in b.find_element(By.ID, "risk-panel").text,
             "the recalculated panel")
    redrawn = "[data-risk-chart=scores][data-chart-ready]:not([data-old])"
    wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, redrawn), "the new chart to be drawn")
    assert driver.execute_script(PAINTED_PIXELS, "scores")["painted"] > 500

    # A phone: nothing wider than the screen, and the charts still draw.
    driver.set_window_size(375, 800)
    driver.get(f"{base}risk/?project={project.pk}")
    wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-risk-chart=occurrences][data-chart-ready]"),
             "the charts on a phone")
    width = driver.execute_script("return [document.documentElement.clientWidth, "
                                  "document.documentElement.scrollWidth];")
    assert width[1] <= width[0], width
    assert driver.execute_script(PAINTED_PIXELS, "occurrences")["painted"] > 100

    problems = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert problems == []  # no CSP violation, no script error
