"""Schedules: run a suite on a cron expression, in the schedule's own time zone.

The beat calls `dispatch_due_schedules_all_tenants` every 30 s; it walks the organizations and, in
each schema, starts the enabled schedules whose `next_run_at` has passed. However long the beat was
down, a schedule starts at most one catch-up run: its next time is computed from now, not from the
missed tick.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record, diff, snapshot
from apps.core.errors import ApplicationError
from apps.generated_tests.models import Suite
from apps.organizations.tenants import sum_over_tenants
from apps.projects.models import Environment, Project
from apps.test_runs import services
from apps.test_runs.devices import DEVICES
from apps.test_runs.models import RunTrigger, Schedule

logger = logging.getLogger(__name__)

SCHEDULE_AUDITED_FIELDS = ["name", "cron", "timezone", "suite", "environment", "devices", "enabled"]
CRON_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
_DAY_ALIASES = {name[:3].lower(): str(index) for index, name in enumerate(DAY_NAMES)}


def clean_cron(cron: str) -> str:
    """A valid five-field cron expression (macros like @daily are expanded), else ApplicationError."""
    expression = " ".join((cron or "").split())
    expression = CRON_MACROS.get(expression.lower(), expression)
    fields = expression.split(" ") if expression else []
    if len(fields) != 5:
        raise ApplicationError("The cron expression needs five fields: minute hour day-of-month month day-of-week.",
                               code="invalid_cron", details={"cron": ["Example: 0 3 * * * (every day at 03:00)."]})
    if not croniter.is_valid(expression):
        raise ApplicationError(f"“{expression}” is not a valid cron expression.", code="invalid_cron",
                               details={"cron": ["Check each field's range: minute 0-59, hour 0-23, day 1-31, "
                                                 "month 1-12, day of week 0-6."]})
    return expression


def clean_timezone(name: str) -> str:
    name = (name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ApplicationError(f"Unknown time zone “{name[:64]}”.", code="invalid_timezone",
                               details={"timezone": ["Use an IANA name such as UTC or Europe/Paris."]}) from exc
    return name


def next_run_after(cron: str, tz: str, after: datetime) -> datetime:
    """The first time the expression matches strictly after `after`, evaluated in `tz`; in UTC."""
    local = after.astimezone(ZoneInfo(tz))
    upcoming = croniter(cron, local).get_next(datetime)
    return upcoming.astimezone(ZoneInfo("UTC"))


def _time(minute: str, hour: str) -> str | None:
    if minute.isdigit() and hour.isdigit():
        return f"{int(hour):02d}:{int(minute):02d}"
    return None


def _day_name(value: str) -> str | None:
    value = _DAY_ALIASES.get(value.lower(), value)
    if value.isdigit() and 0 <= int(value) <= 7:
        return DAY_NAMES[int(value) % 7]
    return None


def _days(field: str) -> str | None:
    if field in ("1-5", "mon-fri", "MON-FRI"):
        return "weekday"
    if field in ("0,6", "6,0", "sat,sun", "SAT,SUN"):
        return "weekend day"
    names = [_day_name(part) for part in field.split(",")]
    if all(names):
        return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
    return None


def describe_cron(cron: str) -> str:
    """A short English description of common expressions; the expression itself otherwise."""
    expression = CRON_MACROS.get((cron or "").strip().lower(), " ".join((cron or "").split()))
    fields = expression.split(" ")
    if len(fields) != 5:
        return cron
    minute, hour, day, month, weekday = fields
    at = _time(minute, hour)
    if expression == "* * * * *":
        return "Every minute"
    if (day, month, weekday) == ("*", "*", "*"):
        if hour == "*" and minute.startswith("*/") and minute[2:].isdigit():
            return f"Every {int(minute[2:])} minutes"
        if hour == "*" and minute.isdigit():
            return "Every hour" if minute == "0" else f"Every hour at :{int(minute):02d} past"
        if hour.startswith("*/") and hour[2:].isdigit() and minute.isdigit():
            suffix = "" if minute == "0" else f" at :{int(minute):02d} past"
            return f"Every {int(hour[2:])} hours{suffix}"
        if at:
            return f"Every day at {at}"
    if at and month == "*" and day == "*":
        days = _days(weekday)
        if days:
            return f"Every {days} at {at}"
    if at and weekday == "*" and day.isdigit():
        if month == "*":
            return f"On day {int(day)} of every month at {at}"
        if month.isdigit() and 1 <= int(month) <= 12:
            return f"Every year on {MONTH_NAMES[int(month) - 1]} {int(day)} at {at}"
    return expression


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ApplicationError("Give the schedule a name of at most 200 characters.", code="invalid",
                               details={"name": ["Required, at most 200 characters."]})
    return name


def _clean_suite(project: Project, suite: Suite) -> Suite:
    if suite is None or suite.project_id != project.pk:
        raise ApplicationError("The suite is not in this project.", code="invalid",
                               details={"suite": ["Choose a suite of the schedule's project."]})
    return suite


def _clean_environment(project: Project, environment) -> Environment | None:
    if environment in (None, ""):
        return None
    if isinstance(environment, Environment):
        if environment.project_id != project.pk:
            raise ApplicationError("The environment is not in this project.", code="invalid",
                                   details={"environment": ["Choose an environment of the schedule's project."]})
        return environment
    return services.resolve_environment(project, str(environment))


def _clean_devices(devices) -> list[str]:
    devices = list(dict.fromkeys(devices or []))
    unknown = [device for device in devices if device not in DEVICES]
    if unknown:
        raise ApplicationError(f"Unknown device(s): {', '.join(unknown)}.", code="invalid",
                               details={"devices": [f"Use one of: {', '.join(DEVICES)}."]})
    return devices


def _check_writable(project: Project) -> None:
    if project.is_archived:
        raise ApplicationError("Archived projects are read-only. Restore it first.", code="archived", status_code=409)


def _audit_snapshot(schedule: Schedule) -> dict:
    return snapshot(schedule, SCHEDULE_AUDITED_FIELDS)


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _schedule_next(schedule: Schedule) -> None:
    schedule.next_run_at = (next_run_after(schedule.cron, schedule.timezone, timezone.now())
                            if schedule.enabled else None)


@transaction.atomic
def schedule_create(
    *, project: Project, actor, suite: Suite, name: str, cron: str, timezone: str = "UTC",
    environment=None, devices: list[str] | None = None, enabled: bool = True,
) -> Schedule:
    """A schedule of a suite; `environment` is an environment name (or row) of the project."""
    _check_writable(project)
    schedule = Schedule(
        project=project, suite=_clean_suite(project, suite), name=_clean_name(name), cron=clean_cron(cron),
        timezone=clean_timezone(timezone), environment=_clean_environment(project, environment),
        devices=_clean_devices(devices), enabled=bool(enabled), created_by=_user(actor),
    )
    _schedule_next(schedule)
    schedule.save()
    audit_record(actor=actor, action="schedule.created", target=schedule,
                 changes={**_audit_snapshot(schedule), "next_run_at": schedule.next_run_at})
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, actor, **fields) -> Schedule:
    """Change any of name, cron, timezone, suite, environment, devices, enabled; the next run time
    follows the new expression."""
    schedule = Schedule.objects.select_for_update().select_related("project").get(pk=schedule.pk)
    _check_writable(schedule.project)
    before = _audit_snapshot(schedule)
    cleaners = {
        "name": _clean_name, "cron": clean_cron, "timezone": clean_timezone, "devices": _clean_devices,
        "enabled": bool,
        "suite": lambda value: _clean_suite(schedule.project, value),
        "environment": lambda value: _clean_environment(schedule.project, value),
    }
    for name, value in fields.items():
        if name not in cleaners:
            raise ApplicationError(f"“{name}” cannot be changed.", code="invalid")
        setattr(schedule, name, cleaners[name](value))
    timing_changed = any(before[name] != _audit_snapshot(schedule)[name] for name in ("cron", "timezone", "enabled"))
    if timing_changed:
        _schedule_next(schedule)
    schedule.save()
    changes = diff(before, _audit_snapshot(schedule))
    if changes:
        audit_record(actor=actor, action="schedule.updated", target=schedule, changes=changes)
    return schedule


def schedule_toggle(*, schedule: Schedule, actor, enabled: bool) -> Schedule:
    return schedule_update(schedule=schedule, actor=actor, enabled=enabled)


@transaction.atomic
def schedule_delete(*, schedule: Schedule, actor) -> None:
    _check_writable(schedule.project)
    audit_record(actor=actor, action="schedule.deleted", target=schedule)
    schedule.delete()


def _start(schedule: Schedule, now: datetime) -> bool:
    """Start one due schedule's run; advance it either way. True when a run was created."""
    started = True
    try:
        with transaction.atomic():  # a refused run leaves nothing behind, the schedule still advances
            run = services.run_create(
                project=schedule.project, actor=None, trigger=RunTrigger.SCHEDULE, suite=schedule.suite,
                environment=schedule.environment.name if schedule.environment_id else None,
                devices=schedule.devices or None, schedule=schedule, label=f"schedule {schedule.name}",
                metadata={"schedule": str(schedule.pk), "due_at": schedule.next_run_at.isoformat()},
            )
        schedule.last_run = run
    except ApplicationError as exc:
        started = False
        logger.warning("schedule %s (%s) did not start a run: %s", schedule.pk, schedule.name, exc.message)
        audit_record(actor=None, action="schedule.skipped", target=schedule,
                     changes={"reason": exc.message, "code": exc.code, "due_at": schedule.next_run_at})
    schedule.last_run_at = now
    schedule.next_run_at = next_run_after(schedule.cron, schedule.timezone, now)
    schedule.save(update_fields=["last_run", "last_run_at", "next_run_at", "updated_at"])
    return started


def dispatch_due_schedules() -> int:
    """Start every enabled, due schedule of the current schema; returns how many runs were created.
    Safe to run from several beats or workers at once: due rows are locked and skipped by others."""
    now = timezone.now()
    started = 0
    with transaction.atomic():
        due = list(Schedule.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("project", "suite", "environment")
                   .filter(enabled=True, next_run_at__lte=now).order_by("next_run_at"))
        for schedule in due:
            started += _start(schedule, now)
    return started


def dispatch_due_schedules_all_tenants() -> int:
    """The beat tick: dispatch in every organization's schema."""
    return sum_over_tenants(dispatch_due_schedules, label="dispatching schedules")
