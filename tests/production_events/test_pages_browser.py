"""The error pages in a real Chromium against the real ASGI server: filtering the events list (htmx), an
event's page, and the intake settings (URL, secret reveal, rotation with confirmation).

The server is another process, so rows are committed (`committed_project` deletes them afterwards) and no
`db` fixture is used.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.production_events.models import IntakeEndpoint
from tests.api_endpoints import create_objects  # noqa: F401 - loads the API tables before endpoints_events
from tests.production_events.endpoints_events import make_event
from tests.test_runs.test_live_page import chromium, sign_in, text_of, wait_for


@pytest.fixture
def driver(tmp_path):
    with chromium(tmp_path) as browser:
        yield browser


@pytest.fixture
def org(session_orgs):
    return session_orgs["alpha"]


@pytest.fixture
def base(asgi_server, org) -> str:
    return asgi_server.url(org.host, "/")


@pytest.fixture
def errors(org, committed_project, django_db_blocker):
    """A project with an error and a warning in it, committed (committed_project deletes it at the end)."""
    project = committed_project(org, name="Errors shop")
    with django_db_blocker.unblock(), tenant_context(org.organization):
        error = make_event(project, title="TypeError: cart is undefined", severity="error", url_path="/cart",
                           trail=[{"timestamp": "10:00:01", "category": "ui.click", "message": "Clicked Add to cart",
                                   "selector": "#add"}])
        warning = make_event(project, title="Warning: slow checkout", severity="warning", url_path="/checkout",
                             source="datadog")
    return project, error, warning


def _rows(browser) -> list[str]:
    # Read in one script: htmx may swap the list between a find and a read (a stale element).
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-event]'), (row) => row.getAttribute('data-event'));")


@pytest.mark.browser
def test_events_list_filters_without_reload(base, org, errors, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    project, error, warning = errors
    sign_in(driver, base, org.viewer.email)
    driver.get(f"{base}errors/?project={project.pk}")
    assert set(_rows(driver)) == {str(error.pk), str(warning.pk)}
    driver.execute_script("window.argusTestNoReload = true;")

    Select(driver.find_element(By.NAME, "severity")).select_by_value("warning")

    wait_for(driver, lambda b: _rows(b) == [str(warning.pk)], "the list to show only the warning")
    assert driver.execute_script("return window.argusTestNoReload === true;"), "the page was reloaded"
    assert "severity=warning" in driver.current_url  # the filtered list has its own URL
    facet = driver.find_element(By.CSS_SELECTOR, "[data-facet='severity'] [data-facet-value='error']")
    assert facet.get_attribute("data-count") == "1"  # the other severity is still counted, to choose it


@pytest.mark.browser
def test_event_page_shows_the_stack_and_similar_errors(base, org, errors, driver):
    from selenium.webdriver.common.by import By

    _project, error, _warning = errors
    sign_in(driver, base, org.developer.email)
    driver.get(f"{base}errors/events/{error.pk}/")

    assert text_of(driver, "[data-event-title]") == "TypeError: cart is undefined"
    frames = driver.find_elements(By.CSS_SELECTOR, "[data-stack-trace] [data-frame]")
    in_app = driver.find_elements(By.CSS_SELECTOR, "[data-stack-trace] [data-frame][data-in-app]")
    assert len(frames) == 2 and len(in_app) == 1 and "addToCart" in in_app[0].text
    assert "Clicked Add to cart" in text_of(driver, "[data-trail]")
    assert driver.find_element(By.CSS_SELECTOR, "[data-similar-errors]").is_displayed()

    driver.find_element(By.CSS_SELECTOR, "[data-transition='triaged']").click()
    wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-event-status='triaged']"), "the new status")
    assert org.developer.email in text_of(driver, "[data-status-changed]")


@pytest.mark.browser
def test_intake_settings_show_the_url_and_rotate_works(base, org, errors, driver, django_db_blocker):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    project, _error, _warning = errors
    sign_in(driver, base, org.admin.email)
    driver.get(f"{base}errors/intake/{project.pk}/")

    sentry = driver.find_element(By.CSS_SELECTOR, "[data-intake='sentry']")
    assert "/api/v1/webhooks/sentry/" in sentry.find_element(By.CSS_SELECTOR, "[data-intake-url]").text
    secret = sentry.find_element(By.CSS_SELECTOR, "[data-secret-value]")
    assert not secret.is_displayed()
    sentry.find_element(By.CSS_SELECTOR, "[data-secret-reveal] summary").click()
    assert secret.is_displayed()
    old = secret.text
    with django_db_blocker.unblock(), tenant_context(org.organization):
        assert IntakeEndpoint.objects.get(project=project, source="sentry").secret == old

    sentry.find_element(By.CSS_SELECTOR, "[data-rotate-form] button").click()
    alert = wait_for(driver, expected_conditions.alert_is_present(), "the confirmation")
    assert "Rotate the Sentry secret" in alert.text
    alert.accept()

    wait_for(driver, lambda b: "keeps working until" in text_of(b, ".messages"), "the rotation message")
    with django_db_blocker.unblock(), tenant_context(org.organization):
        endpoint = IntakeEndpoint.objects.get(project=project, source="sentry")
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert driver.find_element(By.CSS_SELECTOR, "[data-intake='sentry'] [data-secret-value]") \
        .get_attribute("textContent") == endpoint.secret


@pytest.mark.browser
def test_a_tracker_delivery_shows_up_live_on_the_errors_list(base, org, errors, driver, asgi_server, celery_worker,
                                                             django_db_blocker):
    """The whole path, real: signed webhook → fast path → Celery processing → outbox → realtime group →
    `/ws/events/` → the notice on an open errors page → "Show them" lists the new error."""
    import json
    import uuid

    from selenium.webdriver.common.by import By

    from apps.production_events.intake import intake_endpoints_for, intake_path
    from apps.production_events.models import ProductionEvent
    from tests.production_events.intake_deliveries import GENERIC_ERROR, signed
    from tests.production_events.test_intake_fastpath import post

    project, error, warning = errors
    with django_db_blocker.unblock(), tenant_context(org.organization):
        endpoint = next(item for item in intake_endpoints_for(project) if item.source == "generic")
    worker = celery_worker(queues="default")
    sign_in(driver, base, org.viewer.email)
    driver.get(f"{base}errors/?project={project.pk}")
    notice = driver.find_element(By.CSS_SELECTOR, "[data-new-errors]")
    wait_for(driver, lambda b: b.find_element(By.CSS_SELECTOR, "[data-live-status]").text == "Live",
             "the live socket")
    assert not notice.is_displayed()

    title = f"RangeError: coupon {uuid.uuid4().hex[:6]} out of range"
    body = json.dumps({**GENERIC_ERROR, "event_id": uuid.uuid4().hex, "title": title}).encode()
    status, answer, _ = post(asgi_server, org.host, intake_path(endpoint), body, signed("generic", endpoint.secret,
                                                                                         body))
    assert status == 202, answer
    wait_for(driver, lambda b: notice.is_displayed() and title in notice.text,
             f"the new-error notice (worker log: {worker.log()[-1500:]})")
    assert notice.text.startswith("1 new error since this page loaded")

    driver.find_element(By.CSS_SELECTOR, "[data-new-errors-show]").click()
    with django_db_blocker.unblock(), tenant_context(org.organization):
        new = ProductionEvent.objects.get(project=project, title=title)
    wait_for(driver, lambda b: str(new.pk) in _rows(b), "the new error in the list")
    assert set(_rows(driver)) == {str(new.pk), str(error.pk), str(warning.pk)}
