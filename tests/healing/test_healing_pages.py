"""The healing page: what each role sees and may do, htmx reviews, settings, and tenant isolation."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.generated_tests.models import Test
from apps.healing.models import Heal, HealingSettings, HealStatus
from apps.test_runs.models import StepResult
from tests.api_endpoints import org_state
from tests.healing.endpoints import HEALED_SELECTOR

ROOT_URLCONF = "argus.urls"


def browser(org, user) -> Client:
    client = Client(HTTP_HOST=org.host)
    client.force_login(user)
    return client


def url(name: str, **kwargs) -> str:
    return reverse(name, urlconf=ROOT_URLCONF, kwargs=kwargs)


@pytest.fixture
def alpha_ids(alpha, org_objects) -> dict[str, str]:
    return org_objects["alpha"]


@pytest.fixture
def bravo_ids(bravo, org_objects) -> dict[str, str]:
    return org_objects["bravo"]


def test_the_page_shows_heals_patterns_and_review_buttons_by_role(alpha, alpha_ids):
    page = f"{url('healing_dashboard')}?project={alpha_ids['project']}"
    viewer = browser(alpha, alpha.viewer).get(page)
    assert viewer.status_code == 200
    html = viewer.content.decode()
    assert "test_id=add-to-cart" in html and f"css={HEALED_SELECTOR}" in html
    assert "0.93" in html and "Pending review" in html
    assert url("healing_heal_accept", heal_id=alpha_ids["heal"]) not in html  # viewers don't review
    assert 'name="mode"' not in html  # nor change settings
    assert url("healing_dashboard") in html  # the navigation links the page

    developer = browser(alpha, alpha.developer).get(page).content.decode()
    assert url("healing_heal_accept", heal_id=alpha_ids["heal"]) in developer
    assert 'name="mode"' not in developer
    assert 'name="mode"' in browser(alpha, alpha.admin).get(page).content.decode()


def test_htmx_accept_swaps_the_row_and_applies_the_heal(alpha, alpha_ids):
    response = browser(alpha, alpha.developer).post(url("healing_heal_accept", heal_id=alpha_ids["heal"]),
                                                    HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'data-heal="' in response.content.decode() and "Accepted" in response.content.decode()
    with tenant_context(alpha.organization):
        assert Heal.objects.get(pk=alpha_ids["heal"]).status == HealStatus.ACCEPTED
        test = Test.objects.get(pk=alpha_ids["test"])
        assert test.definition["steps"][1]["target"]["locators"][0] == {"kind": "css", "value": HEALED_SELECTOR}


def test_reject_without_htmx_redirects_and_a_viewer_may_not_review(alpha, alpha_ids):
    before = org_state(alpha)
    assert browser(alpha, alpha.viewer).post(url("healing_heal_reject", heal_id=alpha_ids["heal"])).status_code == 403
    assert org_state(alpha) == before

    response = browser(alpha, alpha.developer).post(url("healing_heal_reject", heal_id=alpha_ids["heal"]))

    assert response.status_code == 302 and response["Location"].endswith(f"?project={alpha_ids['project']}")
    with tenant_context(alpha.organization):
        assert Heal.objects.get(pk=alpha_ids["heal"]).status == HealStatus.REJECTED


def test_only_admins_save_settings_and_bad_values_are_shown_on_the_form(alpha, alpha_ids):
    settings_url = url("healing_settings", project_id=alpha_ids["project"])
    data = {"mode": "auto_apply", "auto_apply_min_confidence": "0.95", "allow_ai": "on"}
    assert browser(alpha, alpha.developer).post(settings_url, data).status_code == 403

    refused = browser(alpha, alpha.admin).post(settings_url, {**data, "auto_apply_min_confidence": "2"})
    assert refused.status_code == 400 and "Ensure this value is less than or equal to 1" in refused.content.decode()
    saved = browser(alpha, alpha.admin).post(settings_url, data)

    assert saved.status_code == 302
    with tenant_context(alpha.organization):
        row = HealingSettings.objects.get(project_id=alpha_ids["project"])
        assert (row.mode, row.auto_apply_min_confidence, row.allow_ai) == ("auto_apply", 0.95, True)


def test_another_orgs_project_and_heal_are_not_found_and_untouched(alpha, bravo, bravo_ids):
    client = browser(alpha, alpha.admin)
    before = org_state(bravo)

    assert client.get(f"{url('healing_dashboard')}?project={bravo_ids['project']}").status_code == 404
    for name in ("healing_heal_accept", "healing_heal_reject"):
        assert client.post(url(name, heal_id=bravo_ids["heal"]), HTTP_HX_REQUEST="true").status_code == 404
    settings_url = url("healing_settings", project_id=bravo_ids["project"])
    assert client.post(settings_url, {"mode": "off", "auto_apply_min_confidence": "0.9"}).status_code == 404
    assert org_state(bravo) == before
    # An outsider (a member of bravo only) gets nothing on alpha's host either.
    assert browser(alpha, bravo.admin).get(url("healing_dashboard")).status_code == 404


def test_the_run_page_marks_a_healed_step_with_old_and_new_locator(alpha, alpha_ids):
    with tenant_context(alpha.organization):
        StepResult.objects.filter(result_id=alpha_ids["result"], index=1).update(healing={
            "status": "healed", "source": "healer", "error_type": "not_found", "original_text": "test_id=add-to-cart",
            "selector": HEALED_SELECTOR, "confidence": 0.934, "runner_up": {"selector": "#search", "score": 0.41},
            "reason": "clear winner", "duration_ms": 30.2, "screenshot": alpha_ids["artifact"]})

    html = browser(alpha, alpha.viewer).get(url("run_detail", run_id=alpha_ids["failed_run"])).content.decode()

    assert 'data-step-heal="healed"' in html
    assert "<code>test_id=add-to-cart</code>" in html and f"<code>css={HEALED_SELECTOR}</code>" in html
    assert "confidence 0.93" in html and "runner-up 0.41" in html
    assert url("artifact_content", artifact_id=alpha_ids["artifact"]) in html
