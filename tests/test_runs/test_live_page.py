"""The run page and the run list in a real Chromium, kept current over the live socket.

The real ASGI server (`asgi_server`) serves the pages and the sockets; this test process changes runs
through the same services a worker calls (they publish their deltas with apps.test_runs.live.publish
once committed) and publishes step deltas itself, as the engine's recorder does. The pages must follow
without a reload. Rows are committed (the server is another process), so no `db` fixture here:
`committed_project` deletes everything afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.generated_tests.services import test_create as create_test
from apps.test_runs import live
from apps.test_runs.models import Artifact, ArtifactKind, ResultStatus, RunLogLine, StepResult, StepStatus
from apps.test_runs.services import result_claim, result_finish, run_create
from apps.test_runs.snapshots import step_state
from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 20
DEFINITION = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@contextmanager
def chromium(profile_dir: Path) -> Iterator:
    """A headless Chromium through Debian's chromedriver, with a fresh profile."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are required: run `make browser`.")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console errors, shown on failure
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     "--disable-sync", f"--user-data-dir={profile_dir / 'chromium-profile'}", "--window-size=1280,900"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def driver(tmp_path):
    with chromium(tmp_path) as browser:
        yield browser


def wait_for(browser, condition, what: str):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(browser, WAIT_SECONDS).until(condition)
    except TimeoutException:
        body = browser.find_element(By.TAG_NAME, "body").text[:2000]
        console = "\n".join(entry.get("message", "") for entry in browser.get_log("browser"))
        pytest.fail(f"waited in vain for {what} at {browser.current_url}:\n{body}\nconsole:\n{console}")


def text_of(browser, selector: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, selector).text


def sign_in(browser, base: str, email: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{base}login/")
    wait_for(browser, lambda b: b.find_elements(By.NAME, "email"), "the sign-in form")
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, lambda b: b.current_url == base, "the dashboard after signing in")


def wait_until_live(browser) -> None:
    wait_for(browser, lambda b: b.find_elements("css selector", "[data-live-status][data-state='live']"),
             "the live socket to connect")
    if browser.find_elements("css selector", "[data-run-live]"):
        wait_for(browser, lambda b: b.find_elements("css selector", "[data-run-live][data-snapshot-seq]"),
                 "the socket's snapshot to be shown")


def mark_page(browser) -> None:
    """A flag that only survives if the page is never reloaded."""
    browser.execute_script("window.argusTestNoReload = true;")


def assert_not_reloaded(browser) -> None:
    assert browser.execute_script("return window.argusTestNoReload === true;"), "the page was reloaded"


@pytest.fixture
def alpha_org(session_orgs):
    return session_orgs["alpha"]


@pytest.fixture
def base(asgi_server, alpha_org) -> str:
    # Chromium resolves *.localhost itself.
    return asgi_server.url(alpha_org.host, "/")


@pytest.mark.browser
def test_run_page_follows_the_run_without_reload(base, alpha_org, committed_project, django_db_blocker, driver):
    from selenium.webdriver.common.by import By

    org = alpha_org
    project = committed_project(org)
    with django_db_blocker.unblock(), tenant_context(org.organization):
        test = create_test(project=project, actor=org.developer, name="Checkout works", definition=DEFINITION)
        run = run_create(project=project, actor=org.developer, tests=[test])
        result = run.results.get()

    sign_in(driver, base, org.viewer.email)  # viewers may watch
    driver.get(f"{base}runs/{run.pk}/")
    wait_until_live(driver)
    mark_page(driver)
    assert text_of(driver, "[data-run-status]") == "Queued"
    assert driver.find_element(By.CSS_SELECTOR, "[data-run-progress]").get_attribute("value") == "0"
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-step-key]")

    # A worker takes the test: run.progress (running) and test.started arrive.
    with django_db_blocker.unblock(), tenant_context(org.organization):
        claimed = result_claim(result.pk, task_id="live-page", worker="test-process")
    wait_for(driver, lambda b: text_of(b, "[data-run-status]") == "Running", "the run to show as running")
    wait_for(driver, lambda b: text_of(b, f"[data-result='{result.pk}'] [data-result-status]") == "Running",
             "the result to show as running")

    # A step finishes with a screenshot: the recorder's delta.
    with django_db_blocker.unblock(), tenant_context(org.organization):
        screenshot = Artifact(run=run, result=claimed, kind=ArtifactKind.SCREENSHOT, name="step-0.png",
                              content_type="image/png", size=len(PNG))
        screenshot.file.save("step-0.png", ContentFile(PNG), save=True)
        step = StepResult.objects.create(result=claimed, index=0, action="goto", description="Open the shop front",
                                         status=StepStatus.PASSED, started_at=timezone.now(), duration_ms=321,
                                         page_url="http://127.0.0.1:9/", resolved_locator="", screenshot=screenshot)
        live.publish(run.pk, "step.finished", step_state(step))
        line = RunLogLine.objects.create(run=run, seq=1, stream="system", text="Chromium 1280x900 started")
        live.publish(run.pk, "log", {"seq": line.seq, "stream": line.stream, "text": line.text})

    step_item = wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-step-key='0:0']"),
                         "the step to appear")[0]
    assert "Open the shop front" in step_item.text and "321 ms" in step_item.text
    thumbnail = step_item.find_element(By.CSS_SELECTOR, "a[data-lightbox] img")
    assert thumbnail.get_attribute("src").endswith(f"/runs/artifacts/{screenshot.pk}/")
    # The thumbnail really loads through the artifact view (a signed-in member's request).
    wait_for(driver, lambda b: b.execute_script("return arguments[0].complete && arguments[0].naturalWidth", thumbnail),
             "the screenshot thumbnail to load")
    wait_for(driver, lambda b: "Chromium 1280x900 started" in text_of(b, "[data-run-log]"), "the log line")

    # The test passes: test.finished, then run.finished.
    with django_db_blocker.unblock(), tenant_context(org.organization):
        result_finish(claimed, status=ResultStatus.PASSED)
    wait_for(driver, lambda b: text_of(b, "[data-run-status]") == "Passed", "the run to pass")
    progress = driver.find_element(By.CSS_SELECTOR, "[data-run-progress]")
    assert progress.get_attribute("value") == "1" and progress.get_attribute("max") == "1"
    assert text_of(driver, "[data-count='passed']") == "1"
    assert driver.find_element(By.CSS_SELECTOR, "[data-segment='passed']").get_attribute("width") == "100.000"
    assert text_of(driver, f"[data-result='{result.pk}'] [data-result-status]") == "Passed"
    assert text_of(driver, "[data-run-duration]") not in ("", "—")
    assert_not_reloaded(driver)

    # A reload renders the same state from the database (the page works without the socket too), and the
    # socket's snapshot then agrees with it.
    driver.get(f"{base}runs/{run.pk}/")
    assert text_of(driver, "[data-run-status]") == "Passed"
    wait_until_live(driver)
    # Passed results are folded: the step is in the page, not displayed until opened.
    step_item = driver.find_element(By.CSS_SELECTOR, "[data-step-key='0:0']")
    assert "Open the shop front" in step_item.get_attribute("textContent") and not step_item.is_displayed()
    driver.find_element(By.CSS_SELECTOR, f"[data-result='{result.pk}'] summary").click()
    assert step_item.is_displayed()


@pytest.mark.browser
def test_run_list_shows_new_runs_and_their_progress_without_reload(base, alpha_org, committed_project,
                                                                     django_db_blocker, driver):
    from selenium.webdriver.common.by import By

    org = alpha_org
    project = committed_project(org)
    with django_db_blocker.unblock(), tenant_context(org.organization):
        test = create_test(project=project, actor=org.developer, name="Search works", definition=DEFINITION)

    sign_in(driver, base, org.developer.email)
    driver.get(f"{base}runs/?project={project.pk}")
    wait_until_live(driver)
    mark_page(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "[data-run-row]")

    # run.queued on the feed: the list fetches the new row.
    with django_db_blocker.unblock(), tenant_context(org.organization):
        run = run_create(project=project, actor=org.developer, tests=[test], devices=["desktop", "pixel-8"])
        results = list(run.results.all())
    row = f"[data-run-row='{run.pk}']"
    wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, row), "the new run's row")
    assert text_of(driver, f"{row} [data-run-status]") == "Queued"
    assert f"#{run.number}" in text_of(driver, row)

    # Results finish: run.progress and run.finished move the row's status and counts.
    with django_db_blocker.unblock(), tenant_context(org.organization):
        first = result_claim(results[0].pk, task_id="feed", worker="test-process")
        result_finish(first, status=ResultStatus.FAILED, error_message="boom")
    wait_for(driver, lambda b: text_of(b, f"{row} [data-count='failed']") == "1", "the failed count")
    assert text_of(driver, f"{row} [data-run-status]") == "Running"
    with django_db_blocker.unblock(), tenant_context(org.organization):
        second = result_claim(results[1].pk, task_id="feed", worker="test-process")
        result_finish(second, status=ResultStatus.PASSED)
    wait_for(driver, lambda b: text_of(b, f"{row} [data-run-status]") == "Failed", "the run's final status")
    assert text_of(driver, f"{row} [data-count='passed']") == "1"
    assert driver.find_element(By.CSS_SELECTOR, f"{row} [data-segment='failed']").get_attribute("width") == "50.000"
    assert_not_reloaded(driver)
