"""One journey in a real browser: sign up on the public site, land signed in on the new organization's
host, create a project and find it in the list.

The real ASGI server runs in a subprocess against the test database and commits there itself, so this
test uses no `db` transaction (and not pytest-django's live_server, whose flush would wipe the session
organizations); it deletes what it created at the end.
"""

from __future__ import annotations

import os
import secrets
import socket
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.accounts.models import User
from apps.organizations.models import Organization
from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SERVER_START_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def server(django_db_setup, tmp_path) -> str:
    """The real ASGI server on a free port, on the test database. Yields the port."""
    port = _free_port()
    assert connection.settings_dict["NAME"].startswith("test_"), "refusing to point the server at a real database"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": "argus-browser-test-only",
        "DEBUG": "0",
        "ARGUS_HTTPS": "0",
        "ARGUS_PUBLIC_PORT": str(port),
        "ARGUS_PUBLIC_SCHEME": "http",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "argus.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def driver(tmp_path):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are required: run `make browser` (Debian's chromium and "
                    "chromium-driver).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run",
                     "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,900"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def cleanup(django_db_blocker):
    """Deletes the organization (and its schema) and the user the journey created, even if it failed."""
    created: dict[str, str] = {}
    yield created
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        organization = Organization.objects.filter(slug=created.get("slug")).first()
        if organization is not None:
            organization.delete(force_drop=True)
        User.objects.filter(email=created.get("email")).delete()


def _wait_for(browser, condition, what: str) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(browser, 20).until(condition)
    except TimeoutException:
        text = browser.find_element(By.TAG_NAME, "body").text[:2000]
        pytest.fail(f"waited in vain for {what}; the browser is at {browser.current_url}, showing:\n{text}")


def _submit(browser, field_name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.XPATH, f"//form[.//*[@name='{field_name}']]//button[@type='submit']").click()


def _fill(browser, values: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By

    for name, value in values.items():
        element = browser.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)


@pytest.mark.browser
def test_signup_then_create_a_project(server, driver, cleanup, tmp_path, django_db_blocker):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions

    port = server
    slug = "e2e" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    email = f"owner@{slug}.example.test"
    cleanup.update(slug=slug, email=email)
    org_name = f"E2E {slug}"

    driver.get(f"http://localhost:{port}/signup/")
    _fill(driver, {"organization_name": org_name, "slug": slug, "full_name": "Edith Endtoend", "email": email,
                   "password": PASSWORD})
    _submit(driver, "slug")

    dashboard = f"http://{slug}.localhost:{port}/"
    _wait_for(driver, expected_conditions.url_to_be(dashboard), f"the dashboard at {dashboard}")
    assert driver.find_element(By.TAG_NAME, "h1").text == org_name
    assert email in driver.page_source  # the signed-in user's menu

    driver.get(f"{dashboard}projects/new/")
    _fill(driver, {"name": "Storefront", "base_url": "https://storefront.example.com/"})
    _submit(driver, "base_url")
    _wait_for(driver, expected_conditions.url_matches(rf"^{dashboard}projects/[0-9a-f-]{{36}}/$"), "the new project")

    driver.get(f"{dashboard}projects/")
    listed = [link.text for link in driver.find_elements(By.CSS_SELECTOR, "main a")]
    assert "Storefront" in listed
    driver.save_screenshot(str(tmp_path / "projects.png"))
    assert (tmp_path / "projects.png").stat().st_size > 0

    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        organization = Organization.objects.get(slug=slug)
        assert organization.memberships.get().user.email == email
