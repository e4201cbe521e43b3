"""The healing API and services without a browser: heals recorded from a result's trace, review, patterns,
settings and the benchmark figures. (Real runs that heal: test_healing_runs.py.)"""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.audit.models import AuditEntry
from apps.generated_tests.models import Test
from apps.generated_tests.services import test_update
from apps.healing.models import Heal, HealingPattern, HealingSettings, HealStatus
from apps.healing.selectors import accuracy_figures
from apps.healing.services import healing_settings_update, heals_record
from apps.test_runs.models import ResultStatus, StepResult, StepStatus, TestResult
from tests.conftest import error_of
from tests.healing.endpoints import HEALED_FINGERPRINT, HEALED_SELECTOR


@pytest.fixture
def alpha_ids(alpha, org_objects) -> dict[str, str]:
    return org_objects["alpha"]


@pytest.fixture
def bravo_ids(bravo, org_objects) -> dict[str, str]:
    return org_objects["bravo"]


def test_list_filters_and_detail_show_the_heal_with_its_evidence(alpha, alpha_ids, api_client):
    client = api_client(alpha, user=alpha.viewer)

    rows = client.get("/api/v1/healing/heals", {"project": alpha_ids["project"]}).json()["results"]
    assert [row["id"] for row in rows] == [alpha_ids["heal"]]
    assert client.get("/api/v1/healing/heals", {"status": "applied"}).json()["results"] == []
    assert len(client.get("/api/v1/healing/heals", {"test": alpha_ids["test"]}).json()["results"]) == 1
    bad = client.get("/api/v1/healing/heals", {"status": "maybe"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "validation_error"

    heal = client.get(f"/api/v1/healing/heals/{alpha_ids['heal']}").json()
    assert heal["status"] == "pending_review" and heal["healed_selector"] == HEALED_SELECTOR
    assert heal["original_text"] == "test_id=add-to-cart" and heal["confidence"] == 0.93
    assert heal["runner_up"] == {"selector": "#search", "score": 0.41}
    assert heal["links"]["run"] == f"/api/v1/runs/{alpha_ids['failed_run']}"
    assert heal["run_number"] >= 1 and heal["step_index"] == 1

    patterns = client.get("/api/v1/healing/patterns", {"project": alpha_ids["project"]}).json()["results"]
    assert [(p["healed_selector"], p["success_count"], p["confidence"]) for p in patterns] == [
        (HEALED_SELECTOR, 1, pytest.approx(2 / 3))]


def test_accept_writes_a_new_version_and_a_second_review_is_refused(alpha, alpha_ids, api_client):
    client = api_client(alpha, user=alpha.developer)
    with tenant_context(alpha.organization):
        version_before = Test.objects.get(pk=alpha_ids["test"]).version

    response = client.post(f"/api/v1/healing/heals/{alpha_ids['heal']}/accept")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted" and response.json()["applied_version"] == version_before + 1
    with tenant_context(alpha.organization):
        test = Test.objects.get(pk=alpha_ids["test"])
        target = test.definition["steps"][1]["target"]
        assert test.version == version_before + 1
        assert target["locators"] == [{"kind": "css", "value": HEALED_SELECTOR},
                                      {"kind": "test_id", "value": "add-to-cart"}]
        assert target["fingerprint"] == HEALED_FINGERPRINT
        assert AuditEntry.objects.filter(action="heal.accepted", object_id=alpha_ids["heal"]).exists()
    again = client.post(f"/api/v1/healing/heals/{alpha_ids['heal']}/reject")
    assert again.status_code == 409 and error_of(again)["code"] == "not_pending"


def test_reject_keeps_the_test_and_costs_the_pattern_a_failure(alpha, alpha_ids, api_client):
    with tenant_context(alpha.organization):
        test_before = Test.objects.get(pk=alpha_ids["test"]).definition

    response = api_client(alpha, user=alpha.developer).post(f"/api/v1/healing/heals/{alpha_ids['heal']}/reject")

    assert response.status_code == 200 and response.json()["status"] == "rejected"
    with tenant_context(alpha.organization):
        assert Test.objects.get(pk=alpha_ids["test"]).definition == test_before
        pattern = Heal.objects.get(pk=alpha_ids["heal"]).pattern
        assert (pattern.success_count, pattern.failure_count) == (1, 1)


def test_accept_refuses_when_the_step_changed_since_the_run(alpha, alpha_ids, api_client):
    with tenant_context(alpha.organization):
        test = Test.objects.get(pk=alpha_ids["test"])
        definition = json.loads(json.dumps(test.definition))
        definition["steps"][1]["target"]["locators"] = [{"kind": "css", "value": "#rewritten"}]
        test_update(test=test, actor=alpha.admin, definition=definition)

    response = api_client(alpha, user=alpha.developer).post(f"/api/v1/healing/heals/{alpha_ids['heal']}/accept")

    assert response.status_code == 409 and error_of(response)["code"] == "test_changed"
    with tenant_context(alpha.organization):
        assert Heal.objects.get(pk=alpha_ids["heal"]).status == HealStatus.PENDING_REVIEW


def test_settings_have_defaults_and_only_admins_change_them(alpha, alpha_ids, api_client):
    path = f"/api/v1/healing/projects/{alpha_ids['project']}/settings"
    assert api_client(alpha, user=alpha.viewer).get(path).json() == {
        "project": alpha_ids["project"], "mode": "review", "auto_apply_min_confidence": 0.9, "allow_ai": False}
    admin = api_client(alpha, user=alpha.admin)
    refusals = (({"mode": "always"}, "mode"), ({"auto_apply_min_confidence": 0.2}, "auto_apply_min_confidence"))
    for body, field in refusals:
        refused = admin.patch(path, body, format="json")
        assert refused.status_code == 400 and error_of(refused)["code"] == "validation_error"
        assert field in error_of(refused)["details"]

    changed = admin.patch(path, {"mode": "auto_apply", "auto_apply_min_confidence": 0.95}, format="json")

    assert changed.status_code == 200 and changed.json()["mode"] == "auto_apply"
    with tenant_context(alpha.organization):
        assert HealingSettings.objects.get(project_id=alpha_ids["project"]).auto_apply_min_confidence == 0.95
        entry = AuditEntry.objects.get(action="healing.settings_updated")
        assert entry.changes["mode"] == {"from": "review", "to": "auto_apply"}


def test_lists_show_only_the_hosts_organization(alpha, bravo, alpha_ids, bravo_ids, api_client):
    client = api_client(bravo, user=bravo.admin)
    for path in ("/api/v1/healing/heals", "/api/v1/healing/patterns"):
        rows = client.get(path, {"page_size": 200}).json()["results"]
        assert rows, "an empty list proves nothing"
        assert {row["project"] for row in rows} == {bravo_ids["project"]}
    assert client.get("/api/v1/healing/heals", {"project": alpha_ids["project"]}).json()["results"] == []


def test_accuracy_reads_the_latest_benchmark_or_says_not_measured(tmp_path, alpha, api_client):
    assert accuracy_figures(tmp_path / "missing.json") == {"measured": False,
                                                           "message": "Not measured yet: run bench/healing/run.py."}
    figures = {"measured_at": "2026-11-21T12:00:00Z", "cases": 320, "pages": 12, "correct_heals": 250,
               "wrong_element_heals": 1, "refusals": 60, "correct_refusals": 55, "missed_heals": 5, "accuracy": 0.98,
               "wrong_element_rate": 0.003, "p50_ms": 30.0, "p95_ms": 80.5,
               "by_mutation": {"id_renamed": {"cases": 30, "correct": 30, "wrong": 0, "refused": 0}}}
    (tmp_path / "latest.json").write_text(json.dumps(figures))
    assert accuracy_figures(tmp_path / "latest.json") == {"measured": True, **figures}

    response = api_client(alpha, user=alpha.viewer).get("/api/v1/healing/accuracy")
    assert response.status_code == 200 and isinstance(response.json()["measured"], bool)


def _healed_step(result: TestResult, index: int, *, status: str, record: dict) -> StepResult:
    return StepResult.objects.create(result=result, attempt=result.attempt, index=index, action="click",
                                     status=status, started_at=timezone.now(), healing=record)


def _record(status: str, confidence: float, selector: str = HEALED_SELECTOR) -> dict:
    return {"status": status, "source": "healer", "pattern": None, "selector": selector if status != "refused" else "",
            "confidence": confidence, "runner_up": None, "reasons": ["same text"], "reason": "clear winner",
            "candidates": 9, "fingerprint": HEALED_FINGERPRINT, "error_type": "not_found",
            "original": [{"kind": "test_id", "value": "add-to-cart"}], "original_text": "test_id=add-to-cart",
            "fingerprint_key": "f" * 40, "duration_ms": 25.0, "screenshot": None}


def test_a_passed_results_heals_are_recorded_once_and_applied_per_the_project_mode(alpha, alpha_ids):
    with tenant_context(alpha.organization):
        result = TestResult.objects.get(pk=alpha_ids["result"])
        project = result.run.project
        Heal.objects.filter(result=result).delete()
        StepResult.objects.filter(result=result).delete()
        TestResult.objects.filter(pk=result.pk).update(status=ResultStatus.PASSED)
        healing_settings_update(project=project, actor=alpha.admin, mode="auto_apply", auto_apply_min_confidence=0.9)
        _healed_step(result, 1, status=StepStatus.PASSED, record=_record("healed", 0.95))
        _healed_step(result, 0, status=StepStatus.PASSED, record=_record("refused", 0.4))
        version = Test.objects.get(pk=result.test_id).version

        heals = heals_record(result_id=result.pk)

        assert heals_record(result_id=result.pk) == []  # recorded once
        by_step = {heal.step_index: heal for heal in Heal.objects.filter(result=result)}
        assert by_step[1].status == HealStatus.APPLIED and by_step[1].applied_version == version + 1
        assert by_step[0].status == HealStatus.REFUSED and by_step[0].pattern_id is None
        assert len(heals) == 2
        pattern = HealingPattern.objects.get(project=project, fingerprint_key="f" * 40)
        assert (pattern.success_count, pattern.failure_count) == (1, 0)
        assert Test.objects.get(pk=result.test_id).definition["steps"][1]["target"]["locators"][0] == {
            "kind": "css", "value": HEALED_SELECTOR}
        assert AuditEntry.objects.filter(action="heal.applied", object_id=str(by_step[1].pk)).exists()


def test_a_heal_whose_step_still_failed_counts_against_its_pattern(alpha, alpha_ids):
    with tenant_context(alpha.organization):
        result = TestResult.objects.get(pk=alpha_ids["result"])
        Heal.objects.filter(result=result).delete()
        StepResult.objects.filter(result=result).delete()
        _healed_step(result, 1, status=StepStatus.FAILED, record=_record("failed", 0.7, selector="#wrong"))

        (heal,) = heals_record(result_id=result.pk)

        assert heal.status == HealStatus.FAILED
        pattern = HealingPattern.objects.get(healed_selector="#wrong")
        assert (pattern.success_count, pattern.failure_count) == (0, 1)
        assert pattern.confidence == pytest.approx(1 / 3)
