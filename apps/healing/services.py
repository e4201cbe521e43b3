"""Writes of healing: recording a run's heals, applying them to tests as new versions, reviews,
healing patterns and the per-project settings.

Applied, accepted and rejected heals are recorded in the audit trail and emitted as `healing.completed`
events (apps.integrations.events) in the same transaction.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_record, diff, snapshot
from apps.core.errors import ApplicationError
from apps.generated_tests.models import Test
from apps.generated_tests.services import test_update
from apps.healing.models import (
    Heal,
    HealErrorType,
    HealingMode,
    HealingPattern,
    HealingSettings,
    HealSource,
    HealStatus,
)
from apps.healing.selectors import healing_settings_for
from apps.integrations.events import emit
from apps.projects.models import Project
from apps.test_runs.models import ResultStatus, StepResult, StepStatus, TestResult

SETTINGS_AUDITED_FIELDS = ["mode", "auto_apply_min_confidence", "allow_ai"]
MAX_LOCATORS = 10  # the steps DSL's limit per target
_RECORD_STATUS = {"healed": HealStatus.PENDING_REVIEW, "failed": HealStatus.FAILED, "refused": HealStatus.REFUSED}


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


# -------------------------------------------------------------------------------------------- settings


@transaction.atomic
def healing_settings_update(*, project: Project, actor, mode: str | None = None,
                            auto_apply_min_confidence: float | None = None,
                            allow_ai: bool | None = None) -> HealingSettings:
    if project.is_archived:
        raise ApplicationError("Archived projects are read-only. Restore it first.", code="archived", status_code=409)
    if mode is not None and mode not in HealingMode.values:
        raise ApplicationError("Unknown healing mode.", code="invalid", details={"mode": [f"Use one of "
                                                                                         f"{HealingMode.values}."]})
    if auto_apply_min_confidence is not None and not 0.5 <= auto_apply_min_confidence <= 1:
        raise ApplicationError("The auto-apply confidence must be between 0.5 and 1.", code="invalid",
                               details={"auto_apply_min_confidence": ["Between 0.5 and 1."]})
    settings_row, _created = HealingSettings.objects.select_for_update().get_or_create(project=project)
    before = snapshot(settings_row, SETTINGS_AUDITED_FIELDS)
    for field, value in (("mode", mode), ("auto_apply_min_confidence", auto_apply_min_confidence),
                         ("allow_ai", allow_ai)):
        if value is not None:
            setattr(settings_row, field, value)
    settings_row.save()
    changes = diff(before, snapshot(settings_row, SETTINGS_AUDITED_FIELDS))
    if changes:
        audit_record(actor=actor, action="healing.settings_updated", target=project, changes=changes)
    return settings_row


# -------------------------------------------------------------------------------------------- patterns


def _pattern_count(pattern_id, *, success: bool) -> None:
    counter = "success_count" if success else "failure_count"
    HealingPattern.objects.filter(pk=pattern_id).update(**{counter: F(counter) + 1, "last_used_at": timezone.now(),
                                                           "updated_at": timezone.now()})


def pattern_record(*, project_id, fingerprint_key: str, fingerprint: dict | None, original_locators: str,
                   healed_selector: str, error_type: str, success: bool) -> HealingPattern:
    """Count one use of a heal (success or failure) on its pattern, creating the pattern if new."""
    lookup = {"project_id": project_id, "fingerprint_key": fingerprint_key,
              "original_locators": original_locators[:1000], "healed_selector": healed_selector[:1000]}
    for _attempt in range(2):
        pattern = HealingPattern.objects.filter(**lookup).first()
        if pattern is not None:
            _pattern_count(pattern.pk, success=success)
            pattern.refresh_from_db()
            return pattern
        try:
            with transaction.atomic():
                return HealingPattern.objects.create(
                    **lookup, fingerprint=fingerprint or {}, error_type=error_type,
                    success_count=int(success), failure_count=int(not success), last_used_at=timezone.now())
        except IntegrityError:
            continue  # another worker created it a moment ago: count on that one
    raise RuntimeError("the healing pattern could neither be found nor created")


# --------------------------------------------------------------------------------------- run outcomes


def _heal_from_step(result: TestResult, step: StepResult) -> Heal:
    record: dict[str, Any] = step.healing or {}
    status = _RECORD_STATUS.get(record.get("status"), HealStatus.REFUSED)
    if status == HealStatus.PENDING_REVIEW and step.status != StepStatus.PASSED:
        status = HealStatus.FAILED
    error_type = record.get("error_type")
    return Heal(
        project_id=result.run.project_id, test_id=result.test_id, test_version=result.test_version,
        run_id=result.run_id, result=result, step_result=step, step_index=step.index, action=step.action,
        original_locators=record.get("original") or [], original_text=(record.get("original_text") or "")[:1000],
        healed_selector=(record.get("selector") or "")[:1000], fingerprint=record.get("fingerprint"),
        fingerprint_key=(record.get("fingerprint_key") or "")[:64], confidence=float(record.get("confidence") or 0),
        runner_up=record.get("runner_up"), reasons=record.get("reasons") or [], reason=record.get("reason") or "",
        candidates=int(record.get("candidates") or 0), duration_ms=float(record.get("duration_ms") or 0),
        error_type=error_type if error_type in HealErrorType.values else HealErrorType.NOT_FOUND,
        source=HealSource.PATTERN if record.get("source") == "pattern" else HealSource.HEALER,
        screenshot_id=record.get("screenshot"), status=status,
    )


def _count_on_pattern(heal: Heal, pattern_id: str | None, *, success: bool) -> None:
    if pattern_id and HealingPattern.objects.filter(pk=pattern_id, project_id=heal.project_id).exists():
        _pattern_count(pattern_id, success=success)
        heal.pattern_id = pattern_id
        return
    heal.pattern = pattern_record(
        project_id=heal.project_id, fingerprint_key=heal.fingerprint_key, fingerprint=heal.fingerprint,
        original_locators=heal.original_text, healed_selector=heal.healed_selector, error_type=heal.error_type,
        success=success)


@transaction.atomic
def heals_record(*, result_id) -> list[Heal]:
    """Turn a finished result's healed steps (StepResult.healing, last attempt) into Heal rows.

    A heal whose step passed is counted as a success on its pattern and, when the result passed and
    the project applies confident heals automatically, written into the test as a new version;
    otherwise it waits for review. A heal whose step still failed counts as a failure. Refusals are
    kept for the record. Idempotent: a result's heals are recorded once."""
    result = TestResult.objects.select_related("run").filter(pk=result_id).first()
    if result is None or not result.is_finished or Heal.objects.filter(result_id=result_id).exists():
        return []
    steps = list(StepResult.objects.filter(result=result, attempt=result.attempt, healing__isnull=False)
                 .order_by("index"))
    heals = [_heal_from_step(result, step) for step in steps]
    for heal, step in zip(heals, steps, strict=True):
        if heal.status in (HealStatus.PENDING_REVIEW, HealStatus.FAILED) and heal.healed_selector:
            _count_on_pattern(heal, (step.healing or {}).get("pattern"),
                              success=heal.status == HealStatus.PENDING_REVIEW)
    Heal.objects.bulk_create(heals)
    settings_row = healing_settings_for(result.run.project)
    if result.status == ResultStatus.PASSED and settings_row.mode == HealingMode.AUTO_APPLY and result.test_id:
        confident = [heal for heal in heals if heal.status == HealStatus.PENDING_REVIEW
                     and heal.confidence >= settings_row.auto_apply_min_confidence]
        if confident:
            _auto_apply(result, confident, threshold=settings_row.auto_apply_min_confidence)
    return heals


def _auto_apply(result: TestResult, heals: list[Heal], *, threshold: float) -> None:
    try:
        with transaction.atomic():
            _apply_to_test(result.test_id, heals, actor=None,
                           change_note=f"Self-healing: {len(heals)} locator(s) healed in run "
                                       f"#{result.run.number} (confidence ≥ {threshold:.2f})",
                           status=HealStatus.APPLIED, action="heal.applied")
    except ApplicationError:
        pass  # the test changed since the run (or was archived): the heals stay pending for a person


# ------------------------------------------------------------------------------------------ applying


def healed_target(target: dict, heal: Heal) -> dict:
    """The target with the healed selector as its first locator, the old ones kept as fallbacks, and
    the healed element's fingerprint as the new baseline."""
    healed = {"kind": "css", "value": heal.healed_selector}
    locators = [healed, *(locator for locator in target.get("locators") or [] if locator != healed)]
    target = {**target, "locators": locators[:MAX_LOCATORS]}
    if heal.fingerprint:
        target["fingerprint"] = heal.fingerprint
    return target


def _healed_definition(test: Test, heals: Iterable[Heal]) -> dict:
    definition = copy.deepcopy(test.definition)
    steps = definition.get("steps") or []
    for heal in heals:
        ran = ((heal.result.definition or {}).get("steps") or [])
        expected = ran[heal.step_index].get("target") if heal.step_index < len(ran) else None
        current = steps[heal.step_index].get("target") if heal.step_index < len(steps) else None
        if not current or not expected or current.get("locators") != expected.get("locators"):
            raise ApplicationError(f"The test changed since this run: step {heal.step_index + 1} no longer has the "
                                   "locators that were healed. Edit the test instead.", code="test_changed",
                                   status_code=409)
        steps[heal.step_index] = {**steps[heal.step_index], "target": healed_target(current, heal)}
    return definition


def _apply_to_test(test_id, heals: list[Heal], *, actor, change_note: str, status: str, action: str) -> Test:
    test = Test.objects.select_for_update().filter(pk=test_id).first()
    if test is None:
        raise ApplicationError("The test of this heal was deleted.", code="test_deleted", status_code=409)
    test = test_update(test=test, actor=actor, definition=_healed_definition(test, heals), change_note=change_note)
    now = timezone.now()
    for heal in heals:
        heal.status = status
        heal.applied_version = test.version
        if action == "heal.accepted":
            heal.reviewed_by, heal.reviewed_at = _user(actor), now
        heal.save(update_fields=["status", "applied_version", "reviewed_by", "reviewed_at", "updated_at"])
        audit_record(actor=actor, action=action, target=heal,
                     changes={"test": str(test.pk), "step": heal.step_index + 1, "from": heal.original_text,
                              "to": heal.healed_selector, "confidence": heal.confidence, "version": test.version})
        _emit_completed(heal)
    return test


def _emit_completed(heal: Heal) -> None:
    emit("healing.completed", {"heal": heal.pk, "test": heal.test_id, "step_index": heal.step_index,
                               "old_locator": heal.original_text, "new_locator": heal.healed_selector,
                               "confidence": heal.confidence, "status": heal.status},
         source="healing", correlation_id=str(heal.run_id))


def _pending(heal: Heal) -> Heal:
    locked = Heal.objects.select_for_update().select_related("result", "project").get(pk=heal.pk)
    if locked.status != HealStatus.PENDING_REVIEW:
        raise ApplicationError(f"This heal is {locked.get_status_display().lower()}, not pending review.",
                               code="not_pending", status_code=409)
    if locked.project.is_archived:
        raise ApplicationError("Archived projects are read-only. Restore it first.", code="archived", status_code=409)
    return locked


@transaction.atomic
def heal_accept(*, heal: Heal, actor) -> Heal:
    """Apply a pending heal to its test as a new version (healed selector first, old locators kept)."""
    heal = _pending(heal)
    if heal.test_id is None:
        raise ApplicationError("The test of this heal was deleted.", code="test_deleted", status_code=409)
    _apply_to_test(heal.test_id, [heal], actor=actor, status=HealStatus.ACCEPTED, action="heal.accepted",
                   change_note=f"Self-healing accepted: step {heal.step_index + 1} {heal.original_text} → "
                               f"css={heal.healed_selector}"[:300])
    return heal


@transaction.atomic
def heal_reject(*, heal: Heal, actor) -> Heal:
    """Refuse a pending heal: the test stays as it is and the pattern loses trust."""
    heal = _pending(heal)
    heal.status = HealStatus.REJECTED
    heal.reviewed_by, heal.reviewed_at = _user(actor), timezone.now()
    heal.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    if heal.pattern_id:
        _pattern_count(heal.pattern_id, success=False)
    audit_record(actor=actor, action="heal.rejected", target=heal,
                 changes={"test": str(heal.test_id) if heal.test_id else None, "step": heal.step_index + 1,
                          "from": heal.original_text, "to": heal.healed_selector, "confidence": heal.confidence})
    _emit_completed(heal)
    return heal
