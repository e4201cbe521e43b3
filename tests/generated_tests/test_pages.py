"""The test and suite pages: what each shows, what each form does, and what viewers may not do."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry

# The module, not its functions: pytest would collect `test_create` & co. as tests.
from apps.generated_tests import services
from apps.generated_tests.models import Suite, Test, TestVersion
from apps.projects.services import project_archive, project_create
from apps.test_runs.models import Run

STEPS = {"version": 1, "start_url": "/", "steps": [
    {"action": "goto", "url": "/catalog"},
    {"action": "click", "target": {"locators": [{"kind": "test_id", "value": "add-to-cart"}],
                                   "description": "Add to cart button"}},
]}
MORE_STEPS = {"version": 1, "start_url": "/", "steps": [
    *STEPS["steps"], {"action": "assert_text", "target": {"locators": [{"kind": "css", "value": ".count"}]},
                      "text": "1"},
]}


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def html_of(response) -> str:
    return response.content.decode()


def text_of(response) -> str:
    """The page with entities decoded, to look for messages that quote things."""
    return unescape(response.content.decode())


@pytest.fixture
def shop(alpha):
    """A project with two tests (one approved, tagged) and a suite of both."""
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example/",
                                 environments={"staging": "https://staging.shop.example/"})
        cart = services.test_create(project=project, actor=alpha.developer, name="Add to cart", definition=STEPS,
                                    tags=["checkout", "smoke"], description="Puts a product in the cart")
        home = services.test_create(project=project, actor=alpha.developer, name="Home page", definition=STEPS)
        cart = services.test_update(test=cart, actor=alpha.developer, status="approved")
        suite = services.suite_create(project=project, actor=alpha.developer, name="Smoke",
                                      tests=[home.pk, cart.pk], default_devices=["desktop", "iphone-15"])
    return {"project": project, "cart": cart, "home": home, "suite": suite}


def in_alpha(alpha, function, *args, **kwargs):
    with tenant_context(alpha.organization):
        return function(*args, **kwargs)


# Test list


def test_list_shows_tests_with_status_badges_and_counts(alpha, shop):
    response = browser(alpha, alpha.viewer).get(reverse("test_list"))

    html = html_of(response)
    assert response.status_code == 200
    assert "Add to cart" in html and "Home page" in html
    assert 'class="badge badge-status-approved">Approved<' in html
    assert 'class="badge badge-status-draft">Draft<' in html
    # The status tabs count under the other filters.
    assert re.search(r"Approved <span class=\"tab-count\">1</span>", html)
    assert re.search(r"Draft <span class=\"tab-count\">1</span>", html)
    assert re.search(r"All <span class=\"tab-count\">2</span>", html)


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ({"status": "approved"}, "Add to cart", "Home page"),
    ({"tag": "checkout"}, "Add to cart", "Home page"),
    ({"search": "home"}, "Home page", "Add to cart"),
    ({"search": "product in the cart"}, "Add to cart", "Home page"),
    ({"origin": "generated"}, None, "Add to cart"),
])
def test_list_filters(alpha, shop, query, shown, hidden):
    html = html_of(browser(alpha, alpha.viewer).get(reverse("test_list"), query))

    if shown:
        assert f">{shown}</a>" in html
    assert f">{hidden}</a>" not in html


def test_list_filters_by_project(alpha, shop):
    with tenant_context(alpha.organization):
        other = project_create(actor=alpha.admin, name="Blog", base_url="https://blog.example/")
        services.test_create(project=other, actor=alpha.developer, name="Read a post", definition=STEPS)

    html = html_of(browser(alpha, alpha.viewer).get(reverse("test_list"), {"project": str(other.pk)}))

    assert ">Read a post</a>" in html and ">Add to cart</a>" not in html


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"project": "not-a-uuid"}, {"origin": "x"}])
def test_list_refuses_unknown_filter_values(alpha, shop, query):
    response = browser(alpha, alpha.viewer).get(reverse("test_list"), query)

    assert response.status_code == 400
    assert ">Add to cart</a>" not in html_of(response)


def test_viewer_sees_no_write_controls(alpha, shop):
    client = browser(alpha, alpha.viewer)
    listing = html_of(client.get(reverse("test_list")))
    detail = html_of(client.get(reverse("test_detail", args=[shop["cart"].pk])))
    history = html_of(client.get(reverse("test_history", args=[shop["cart"].pk])))
    suite = html_of(client.get(reverse("suite_detail", args=[shop["suite"].pk])))
    suites = html_of(client.get(reverse("suite_list")))

    assert reverse("test_create") not in listing and reverse("test_import") not in listing
    for url in (reverse("test_update", args=[shop["cart"].pk]), reverse("test_status", args=[shop["cart"].pk]),
                reverse("test_delete", args=[shop["cart"].pk]), reverse("test_run", args=[shop["cart"].pk])):
        assert url not in detail
    assert "Restore" not in history
    assert reverse("suite_run", args=[shop["suite"].pk]) not in suite
    assert reverse("suite_update", args=[shop["suite"].pk]) not in suite
    assert reverse("suite_create") not in suites
    # The same pages offer them to a developer: the checks above could fail.
    developer = browser(alpha, alpha.developer)
    assert reverse("test_status", args=[shop["cart"].pk]) in html_of(
        developer.get(reverse("test_detail", args=[shop["cart"].pk])))
    assert reverse("suite_run", args=[shop["suite"].pk]) in html_of(
        developer.get(reverse("suite_detail", args=[shop["suite"].pk])))


def test_viewer_gets_403_on_every_write(alpha, shop):
    client = browser(alpha, alpha.viewer)
    test_id, suite_id = shop["cart"].pk, shop["suite"].pk
    posts = [
        (reverse("test_create"), {"project": str(shop["project"].pk), "name": "X", "definition": json.dumps(STEPS)}),
        (reverse("test_update", args=[test_id]), {"name": "X", "definition": json.dumps(STEPS)}),
        (reverse("test_status", args=[test_id]), {"action": "archive"}),
        (reverse("test_delete", args=[test_id]), {}),
        (reverse("test_run", args=[test_id]), {}),
        (reverse("test_version_restore", args=[test_id, 1]), {}),
        (reverse("test_import"), {}),
        (reverse("suite_create"), {"project": str(shop["project"].pk), "name": "X"}),
        (reverse("suite_update", args=[suite_id]), {"name": "X"}),
        (reverse("suite_run", args=[suite_id]), {"retries": "0"}),
        (reverse("suite_delete", args=[suite_id]), {}),
    ]
    before = in_alpha(alpha, AuditEntry.objects.count)

    for url, data in posts:
        assert client.post(url, data).status_code == 403, url

    assert in_alpha(alpha, AuditEntry.objects.count) == before
    assert in_alpha(alpha, lambda: Test.objects.get(pk=test_id).status) == "approved"
    assert not in_alpha(alpha, Run.objects.exists)
    for url in (reverse("test_create"), reverse("test_update", args=[test_id]), reverse("test_import"),
                reverse("suite_create"), reverse("suite_update", args=[suite_id])):
        assert client.get(url).status_code == 403, url


# Test detail, status changes


def test_detail_lists_the_steps_readably(alpha, shop):
    html = html_of(browser(alpha, alpha.viewer).get(reverse("test_detail", args=[shop["cart"].pk])))

    assert "Go to /catalog" in html
    assert "Add to cart button" in html  # the target's description (dsl.describe_step)
    assert "checkout" in html and "smoke" in html
    assert "This test has not run yet." in html


def test_detail_lists_the_last_results(alpha, shop):
    with tenant_context(alpha.organization):
        from apps.test_runs.services import run_create

        run = run_create(project=shop["project"], actor=alpha.developer, tests=[shop["cart"]])

    html = html_of(browser(alpha, alpha.viewer).get(reverse("test_detail", args=[shop["cart"].pk])))

    assert f'href="{reverse("run_detail", args=[run.pk])}">#{run.number}</a>' in html
    assert "badge-status-queued" in html


@pytest.mark.parametrize(("action", "status"), [("reject", "rejected"), ("archive", "archived")])
def test_status_buttons_change_the_status(alpha, shop, action, status):
    response = browser(alpha, alpha.developer).post(reverse("test_status", args=[shop["cart"].pk]),
                                                    {"action": action})

    assert response.status_code == 302
    assert in_alpha(alpha, lambda: Test.objects.get(pk=shop["cart"].pk).status) == status


def test_approve_from_draft(alpha, shop):
    client = browser(alpha, alpha.developer)
    html = html_of(client.get(reverse("test_detail", args=[shop["home"].pk])))
    assert 'value="approve"' in html

    client.post(reverse("test_status", args=[shop["home"].pk]), {"action": "approve"})

    assert in_alpha(alpha, lambda: Test.objects.get(pk=shop["home"].pk).status) == "approved"


def test_unknown_status_action_changes_nothing(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_status", args=[shop["cart"].pk]),
                                                    {"action": "delete-everything"}, follow=True)

    assert "Choose one of" in html_of(response)
    assert in_alpha(alpha, lambda: Test.objects.get(pk=shop["cart"].pk).status) == "approved"


def test_delete_test(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_delete", args=[shop["home"].pk]))

    assert response.status_code == 302 and response["Location"] == reverse("test_list")
    assert not in_alpha(alpha, Test.objects.filter(pk=shop["home"].pk).exists)


def test_run_one_test_now(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_run", args=[shop["cart"].pk]),
                                                    {"environment": "staging"})

    run = in_alpha(alpha, Run.objects.get)
    assert response.status_code == 302 and response["Location"] == reverse("run_detail", args=[run.pk])
    assert run.target_url == "https://staging.shop.example/" and run.total == 1 and run.trigger == "manual"


# Editor


def test_editor_page_offers_the_step_editor_and_the_raw_json(alpha, shop):
    html = html_of(browser(alpha, alpha.developer).get(reverse("test_update", args=[shop["cart"].pk])))

    assert "data-step-editor" in html and "js/step-editor.js" in html
    assert 'name="definition"' in html and "add-to-cart" in html  # the JSON, editable without JavaScript
    assert "assert_no_console_errors" in html  # the actions the editor offers
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style


def test_create_a_test(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_create"), {
        "project": str(shop["project"].pk), "name": "Checkout", "description": "Pays",
        "tags": "checkout, Payments", "definition": json.dumps(MORE_STEPS),
    })

    test = in_alpha(alpha, Test.objects.get, name="Checkout")
    assert response.status_code == 302 and response["Location"] == reverse("test_detail", args=[test.pk])
    assert test.definition == MORE_STEPS and test.tags == ["checkout", "payments"] and test.version == 1
    assert test.created_by_id == alpha.developer.pk


def test_invalid_steps_are_shown_next_to_their_step_and_nothing_is_saved(alpha, shop):
    definition = {"version": 1, "steps": [{"action": "goto", "url": "/"}, {"action": "click"}]}

    response = browser(alpha, alpha.developer).post(reverse("test_create"), {
        "project": str(shop["project"].pk), "name": "Broken", "definition": json.dumps(definition),
    })

    html = html_of(response)
    assert response.status_code == 400
    assert "Step 2: 'target' is required" in text_of(response)
    # The step editor reads the per-step errors (step index 1) from the form.
    errors = json.loads(unescape(re.search(r'data-step-errors="([^"]*)"', html).group(1)))
    assert errors == {"1": ["'target' is required"]}
    assert not in_alpha(alpha, Test.objects.filter(name="Broken").exists)


def test_malformed_json_is_a_form_error(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_create"), {
        "project": str(shop["project"].pk), "name": "Broken", "definition": '{"version": 1, "steps": [',
    })

    assert response.status_code == 400
    assert "Not valid JSON" in html_of(response)
    assert not in_alpha(alpha, Test.objects.filter(name="Broken").exists)


def test_duplicate_name_is_shown_on_the_name_field(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_create"), {
        "project": str(shop["project"].pk), "name": "Home page", "definition": json.dumps(STEPS),
    })

    assert response.status_code == 400
    assert "This name is taken in the project." in html_of(response)
    assert in_alpha(alpha, Test.objects.filter(name="Home page").count) == 1


def test_archived_projects_are_not_offered_for_new_tests(alpha, shop):
    in_alpha(alpha, project_archive, project=shop["project"], actor=alpha.admin)

    response = browser(alpha, alpha.developer).post(reverse("test_create"), {
        "project": str(shop["project"].pk), "name": "Late", "definition": json.dumps(STEPS),
    })

    assert response.status_code == 400
    assert not in_alpha(alpha, Test.objects.filter(name="Late").exists)


def test_editing_steps_saves_a_new_version_with_its_note(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_update", args=[shop["cart"].pk]), {
        "name": "Add to cart", "tags": "checkout", "definition": json.dumps(MORE_STEPS),
        "change_note": "check the count",
    })

    assert response.status_code == 302
    test = in_alpha(alpha, Test.objects.get, pk=shop["cart"].pk)
    assert test.version == 2 and test.definition == MORE_STEPS and test.tags == ["checkout"]
    assert in_alpha(alpha, lambda: TestVersion.objects.get(test=test, number=2).change_note) == "check the count"


# History


def test_history_lists_versions_with_their_differences_and_restores(alpha, shop):
    test = shop["cart"]
    in_alpha(alpha, services.test_update, test=test, actor=alpha.developer, definition=MORE_STEPS,
             change_note="third step")
    client = browser(alpha, alpha.developer)

    history = html_of(client.get(reverse("test_history", args=[test.pk])))
    version = html_of(client.get(reverse("test_version", args=[test.pk, 1])))

    assert "steps 2 → 3" in history and "third step" in history
    assert reverse("test_version_restore", args=[test.pk, 1]) in history
    assert reverse("test_version_restore", args=[test.pk, 2]) not in history  # the current one
    assert "Go to /catalog" in version and "Check css=.count" not in version

    response = client.post(reverse("test_version_restore", args=[test.pk, 1]))

    restored = in_alpha(alpha, Test.objects.get, pk=test.pk)
    assert response.status_code == 302
    assert restored.version == 3 and restored.definition == STEPS


def test_unknown_version_is_404(alpha, shop):
    client = browser(alpha, alpha.developer)

    assert client.get(reverse("test_version", args=[shop["cart"].pk, 9])).status_code == 404
    assert client.post(reverse("test_version_restore", args=[shop["cart"].pk, 9])).status_code == 404
    assert in_alpha(alpha, Test.objects.get, pk=shop["cart"].pk).version == 1


# Export


def test_export_downloads_a_pytest_file(alpha, shop):
    response = browser(alpha, alpha.viewer).get(reverse("test_export", args=[shop["cart"].pk]),
                                                {"environment": "staging"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="test_add_to_cart.py"'
    code = response.content.decode()
    compile(code, "test_add_to_cart.py", "exec")  # runnable Python
    assert "https://staging.shop.example/" in code and "add-to-cart" in code


def test_export_for_an_unknown_environment_goes_back_with_a_message(alpha, shop):
    response = browser(alpha, alpha.viewer).get(reverse("test_export", args=[shop["cart"].pk]),
                                                {"environment": "production"}, follow=True)

    assert "has no “production” environment" in html_of(response)


# Import


def upload(document, name: str = "tests.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(document).encode(), content_type="application/json")


def test_import_creates_the_tests(alpha, shop):
    document = {"tests": [{"name": "Imported one", **STEPS}, {"name": "Imported two", "tags": ["x"], **STEPS}]}

    response = browser(alpha, alpha.developer).post(reverse("test_import"), {
        "project": str(shop["project"].pk), "origin": "recorded", "file": upload(document)})

    assert response.status_code == 302
    names = in_alpha(alpha, lambda: sorted(Test.objects.filter(origin="recorded").values_list("name", flat=True)))
    assert names == ["Imported one", "Imported two"]


def test_import_lists_the_problems_per_test_and_imports_nothing(alpha, shop):
    document = {"tests": [{"name": "Fine", **STEPS}, {"name": "Home page", **STEPS}]}

    response = browser(alpha, alpha.developer).post(reverse("test_import"), {
        "project": str(shop["project"].pk), "origin": "manual", "file": upload(document)})

    html = html_of(response)
    assert response.status_code == 400
    assert "<strong>Test 2</strong>: A test named “Home page” exists." in html
    assert not in_alpha(alpha, Test.objects.filter(name="Fine").exists)


def test_import_names_the_failing_step(alpha, shop):
    document = [{"name": "Fine", **STEPS}, {"name": "Bad", "version": 1, "steps": [{"action": "goto"}]}]

    response = browser(alpha, alpha.developer).post(reverse("test_import"), {
        "project": str(shop["project"].pk), "origin": "manual", "file": upload(document)})

    assert response.status_code == 400
    assert "<strong>Test 2</strong>: step 1: 'url' is required" in text_of(response)
    assert not in_alpha(alpha, Test.objects.filter(name="Fine").exists)


def test_import_refuses_a_file_that_is_not_json(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("test_import"), {
        "project": str(shop["project"].pk), "origin": "manual",
        "file": SimpleUploadedFile("tests.json", b"\xff\xfe not json")})

    assert response.status_code == 400
    assert "not valid JSON" in html_of(response)


# Suites


def test_suite_list_and_detail(alpha, shop):
    client = browser(alpha, alpha.viewer)
    listing = html_of(client.get(reverse("suite_list")))
    detail = html_of(client.get(reverse("suite_detail", args=[shop["suite"].pk])))

    assert ">Smoke</a>" in listing and "iphone-15" in listing
    # Tests in the suite's order (Home page was added first).
    assert detail.index(">Home page</a>") < detail.index(">Add to cart</a>")
    assert "iPhone 15" in detail and "Not run yet." in detail


def test_suite_list_filter_by_unknown_project_is_400(alpha, shop):
    assert browser(alpha, alpha.viewer).get(reverse("suite_list"), {"project": "nope"}).status_code == 400


def test_new_suite_asks_for_the_project_first(alpha, shop):
    with tenant_context(alpha.organization):
        project_create(actor=alpha.admin, name="Blog", base_url="https://blog.example/")
    client = browser(alpha, alpha.developer)

    choice = client.get(reverse("suite_create"))
    form = client.get(reverse("suite_create"), {"project": str(shop["project"].pk)})

    assert "Which project?" in html_of(choice)
    assert 'name="tests"' not in html_of(choice)
    assert html_of(form).count('name="tests"') == 2 and "data-reorder-list" in html_of(form)


def test_create_suite_keeps_the_chosen_order(alpha, shop):
    cart, home = shop["cart"], shop["home"]

    response = browser(alpha, alpha.developer).post(reverse("suite_create"), {
        "project": str(shop["project"].pk), "name": "Checkout", "tests": [str(home.pk), str(cart.pk)],
        f"position_{home.pk}": "2", f"position_{cart.pk}": "1", "default_environment": "staging",
        "default_devices": ["pixel-8"],
    })

    suite = in_alpha(alpha, Suite.objects.get, name="Checkout")
    assert response.status_code == 302 and response["Location"] == reverse("suite_detail", args=[suite.pk])
    assert in_alpha(alpha, lambda: [test.name for test in suite.ordered_tests()]) == ["Add to cart", "Home page"]
    assert suite.default_environment == "staging" and suite.default_devices == ["pixel-8"]


def test_edit_suite_order_and_membership(alpha, shop):
    suite, cart = shop["suite"], shop["cart"]

    response = browser(alpha, alpha.developer).post(reverse("suite_update", args=[suite.pk]), {
        "name": "Smoke", "tests": [str(cart.pk)], f"position_{cart.pk}": "1",
    })

    assert response.status_code == 302
    assert in_alpha(alpha, lambda: [test.name for test in Suite.objects.get(pk=suite.pk).ordered_tests()]) == [
        "Add to cart"]


def test_suite_form_errors_come_back_on_the_form(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("suite_update", args=[shop["suite"].pk]), {
        "name": "", "default_devices": ["toaster"]})

    assert response.status_code == 400
    html = html_of(response)
    assert "This field is required." in html and "toaster is not one of the available choices" in html


def test_run_suite_redirects_to_the_run_page(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("suite_run", args=[shop["suite"].pk]), {
        "environment": "staging", "devices": ["desktop", "pixel-8"], "retries": "2"})

    run = in_alpha(alpha, Run.objects.get)
    assert response.status_code == 302 and response["Location"] == reverse("run_detail", args=[run.pk])
    assert run.trigger == "manual" and run.devices == ["desktop", "pixel-8"] and run.retries == 2
    assert run.total == 4 and run.suite_id == shop["suite"].pk and run.started_by_id == alpha.developer.pk


def test_run_suite_uses_the_suite_defaults(alpha, shop):
    browser(alpha, alpha.developer).post(reverse("suite_run", args=[shop["suite"].pk]), {"retries": "0"})

    run = in_alpha(alpha, Run.objects.get)
    assert run.devices == ["desktop", "iphone-15"] and run.target_url == "https://shop.example/"


@pytest.mark.parametrize("data", [{"retries": "9"}, {"retries": "0", "environment": "production"},
                                  {"retries": "0", "devices": ["toaster"]}])
def test_bad_run_requests_are_400_and_start_nothing(alpha, shop, data):
    response = browser(alpha, alpha.developer).post(reverse("suite_run", args=[shop["suite"].pk]), data)

    assert response.status_code == 400
    assert not in_alpha(alpha, Run.objects.exists)


def test_running_an_empty_suite_says_why(alpha, shop):
    with tenant_context(alpha.organization):
        empty = services.suite_create(project=shop["project"], actor=alpha.developer, name="Empty")

    response = browser(alpha, alpha.developer).post(reverse("suite_run", args=[empty.pk]), {"retries": "0"})

    assert response.status_code == 400
    assert "There is no runnable test" in html_of(response)
    assert not in_alpha(alpha, Run.objects.exists)


def test_delete_suite(alpha, shop):
    response = browser(alpha, alpha.developer).post(reverse("suite_delete", args=[shop["suite"].pk]))

    assert response.status_code == 302
    assert not in_alpha(alpha, Suite.objects.exists)
    assert in_alpha(alpha, Test.objects.count) == 2


# The step editor in a real browser


def click(driver, element) -> None:
    """Click an element after scrolling it to the middle (the sticky top bar covers the top edge)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


@pytest.mark.browser
def test_step_editor_builds_the_definition(asgi_server, session_orgs, committed_project, django_db_blocker, tmp_path):
    """Add, fill, reorder and remove steps with the form; the saved test has exactly that definition."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.test_runs.test_live_page import chromium, sign_in, wait_for

    org = session_orgs["alpha"]
    project = committed_project(org)
    base = asgi_server.url(org.host, "/")
    with chromium(tmp_path) as driver:
        sign_in(driver, base, org.developer.email)
        driver.get(f"{base}tests/new/?project={project.pk}")
        wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-step-card]"), "the step editor")
        assert not driver.find_element(By.CSS_SELECTOR, "[data-definition-input]").is_displayed()
        driver.find_element(By.NAME, "name").send_keys("Search for shoes")

        # The first card is the default goto; change its URL.
        first = driver.find_element(By.CSS_SELECTOR, "[data-step-card] [data-step-field='url']")
        first.clear()
        first.send_keys("/search")
        # Add a "type" step with a locator and a value.
        driver.find_element(By.CSS_SELECTOR, "[data-step-add]").click()
        card = driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")[1]
        Select(card.find_element(By.CSS_SELECTOR, "select")).select_by_value("type")
        card = driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")[1]
        card.find_element(By.CSS_SELECTOR, "[data-locator-value]").send_keys("#q")
        card.find_element(By.CSS_SELECTOR, "[data-step-field='value']").send_keys("shoes")
        # A fallback locator of another kind.
        card.find_element(By.CSS_SELECTOR, "[data-locator-add]").click()
        card = driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")[1]
        rows = card.find_elements(By.CSS_SELECTOR, "[data-locator-row]")
        Select(rows[1].find_element(By.CSS_SELECTOR, "select")).select_by_value("label")
        card = driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")[1]
        card.find_elements(By.CSS_SELECTOR, "[data-locator-value]")[1].send_keys("Search")
        # A screenshot step, moved up above the "type" step, then a step added and removed again.
        driver.find_element(By.CSS_SELECTOR, "[data-step-add]").click()
        card = driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")[2]
        Select(card.find_element(By.CSS_SELECTOR, "select")).select_by_value("screenshot")
        card = driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")[2]
        card.find_element(By.CSS_SELECTOR, "[data-step-move='-1']").click()
        driver.find_element(By.CSS_SELECTOR, "[data-step-add]").click()
        driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")[3].find_element(
            By.CSS_SELECTOR, "[data-step-remove]").click()
        assert len(driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")) == 3
        driver.set_window_size(375, 900)
        driver.save_screenshot(str(tmp_path / "editor-375.png"))
        driver.set_window_size(1280, 900)

        # The raw JSON tab shows what the cards wrote.
        click(driver, driver.find_element(By.CSS_SELECTOR, "[data-editor-tab='json']"))
        raw = driver.find_element(By.CSS_SELECTOR, "[data-definition-input]")
        assert raw.is_displayed() and '"shoes"' in raw.get_attribute("value")
        click(driver, driver.find_element(By.CSS_SELECTOR, "[data-editor-tab='form']"))
        click(driver, driver.find_element(By.CSS_SELECTOR, "form[data-step-editor] button[type=submit]"))
        wait_for(driver, lambda b: "/tests/new/" not in b.current_url, "the test to be saved")

    with django_db_blocker.unblock(), tenant_context(org.organization):
        test = Test.objects.get(project=project, name="Search for shoes")
    assert test.definition == {"version": 1, "start_url": "/", "steps": [
        {"action": "goto", "url": "/search"},
        {"action": "screenshot"},
        {"action": "type", "target": {"locators": [{"kind": "css", "value": "#q"},
                                                   {"kind": "label", "value": "Search"}]}, "value": "shoes"},
    ]}


@pytest.mark.browser
def test_step_editor_shows_server_errors_next_to_the_step(asgi_server, session_orgs, committed_project,
                                                         django_db_blocker, tmp_path):
    from selenium.webdriver.common.by import By

    from tests.test_runs.test_live_page import chromium, sign_in, wait_for

    org = session_orgs["alpha"]
    project = committed_project(org)
    base = asgi_server.url(org.host, "/")
    with chromium(tmp_path) as driver:
        sign_in(driver, base, org.developer.email)
        driver.get(f"{base}tests/new/?project={project.pk}")
        wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-step-card]"), "the step editor")
        driver.find_element(By.NAME, "name").send_keys("Unfinished")
        driver.find_element(By.CSS_SELECTOR, "[data-step-add]").click()  # a click with an empty locator
        driver.find_element(By.CSS_SELECTOR, "form[data-step-editor] button[type=submit]").click()

        wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-step-error]"), "the step's error")
        cards = driver.find_elements(By.CSS_SELECTOR, "[data-step-card]")
        assert "has-error" in cards[1].get_attribute("class") and "has-error" not in cards[0].get_attribute("class")
        assert "value" in cards[1].find_element(By.CSS_SELECTOR, "[data-step-error]").text

    with django_db_blocker.unblock(), tenant_context(org.organization):
        assert not Test.objects.filter(project=project).exists()


@pytest.mark.browser
def test_suite_order_with_the_arrows(asgi_server, session_orgs, committed_project, django_db_blocker, tmp_path):
    from selenium.webdriver.common.by import By

    from tests.test_runs.test_live_page import chromium, sign_in, wait_for

    org = session_orgs["alpha"]
    project = committed_project(org)
    with django_db_blocker.unblock(), tenant_context(org.organization):
        first, second = (services.test_create(project=project, actor=org.developer, name=name, definition=STEPS)
                         for name in ("A first", "B second"))
    base = asgi_server.url(org.host, "/")
    with chromium(tmp_path) as driver:
        sign_in(driver, base, org.developer.email)
        driver.get(f"{base}suites/new/?project={project.pk}")
        wait_for(driver, lambda b: b.find_elements(By.CSS_SELECTOR, "[data-reorder='down']"), "the arrows")
        assert not driver.find_element(By.CSS_SELECTOR, "[data-position]").is_displayed()
        driver.find_element(By.NAME, "name").send_keys("Ordered")
        for checkbox in driver.find_elements(By.NAME, "tests"):
            checkbox.click()
        driver.find_elements(By.CSS_SELECTOR, "[data-reorder='down']")[0].click()  # "A first" below "B second"
        driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        wait_for(driver, lambda b: "/suites/new/" not in b.current_url, "the suite to be saved")

    with django_db_blocker.unblock(), tenant_context(org.organization):
        suite = Suite.objects.get(project=project, name="Ordered")
        assert list(suite.ordered_tests().values_list("pk", flat=True)) == [second.pk, first.pk]
