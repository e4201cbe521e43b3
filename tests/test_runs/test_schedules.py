"""Schedules: validation, next run times in the schedule's time zone, and the tenant-aware dispatch."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError
from apps.generated_tests import services as test_services
from apps.projects.services import project_create
from apps.test_runs.models import Run, RunTrigger, Schedule
from apps.test_runs.schedules import (
    describe_cron,
    dispatch_due_schedules,
    dispatch_due_schedules_all_tenants,
    next_run_after,
    schedule_create,
    schedule_delete,
    schedule_toggle,
    schedule_update,
)

STEPS = {"version": 1, "start_url": "/", "steps": [{"action": "goto", "url": "/"}]}


def make_suite(org, project, name="Smoke", tests=("Home",)):
    made = [test_services.test_create(project=project, actor=org.developer, name=f"{name} {test}", definition=STEPS)
            for test in tests]
    return test_services.suite_create(project=project, actor=org.developer, name=name,
                                      tests=[test.pk for test in made])


@pytest.fixture
def shop(alpha):
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Shop", base_url="https://shop.example/",
                                 environments={"staging": "https://staging.shop.example/"})
        yield project, make_suite(alpha, project)


def make_due(schedule: Schedule, ago: timedelta = timedelta(minutes=1)) -> None:
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now() - ago)


@pytest.mark.parametrize("cron", ["", "0 3 * *", "0 0 3 * * *", "61 * * * *", "0 25 * * *", "every day",
                                  "* * * * * *"])
def test_invalid_cron_is_refused(alpha, shop, cron):
    project, suite = shop
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            schedule_create(project=project, actor=alpha.developer, suite=suite, name="Nightly", cron=cron)
        assert raised.value.code == "invalid_cron"
        assert not Schedule.objects.exists()


@pytest.mark.parametrize(("kwargs", "code", "field"), [
    ({"timezone": "Mars/Olympus"}, "invalid_timezone", "timezone"),
    ({"timezone": ""}, "invalid_timezone", "timezone"),
    ({"devices": ["desktop", "toaster"]}, "invalid", "devices"),
    ({"environment": "production"}, "invalid", "environment"),
    ({"name": "  "}, "invalid", "name"),
])
def test_invalid_fields_are_refused(alpha, shop, kwargs, code, field):
    project, suite = shop
    with tenant_context(alpha.organization):
        arguments = {"name": "Nightly", "cron": "0 3 * * *", **kwargs}
        with pytest.raises(ApplicationError) as raised:
            schedule_create(project=project, actor=alpha.developer, suite=suite, **arguments)
        assert raised.value.code == code and field in raised.value.details
        assert not Schedule.objects.exists()


def test_a_suite_of_another_project_is_refused(alpha, shop):
    project, _ = shop
    with tenant_context(alpha.organization):
        other = project_create(actor=alpha.admin, name="Other", base_url="https://other.example/")
        foreign_suite = make_suite(alpha, other, name="Foreign")
        with pytest.raises(ApplicationError) as raised:
            schedule_create(project=project, actor=alpha.developer, suite=foreign_suite, name="N", cron="0 3 * * *")
        assert "suite" in raised.value.details


def test_create_computes_the_next_run_in_the_schedules_time_zone(alpha, shop):
    project, suite = shop
    with tenant_context(alpha.organization):
        before = timezone.now()
        schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Nightly",
                                   cron="@daily", timezone="Asia/Tokyo", environment="staging",
                                   devices=["desktop", "iphone-15"])
        assert schedule.cron == "0 0 * * *"  # the macro is stored as five fields
        local = schedule.next_run_at.astimezone(ZoneInfo("Asia/Tokyo"))
        assert (local.hour, local.minute) == (0, 0)
        assert before < schedule.next_run_at <= before + timedelta(days=1)
        assert schedule.environment.name == "staging" and schedule.devices == ["desktop", "iphone-15"]
        entry = AuditEntry.objects.get(action="schedule.created", object_id=str(schedule.pk))
        assert entry.changes["cron"] == "0 0 * * *" and entry.actor_email == alpha.developer.email


def test_next_run_after_follows_daylight_saving_time():
    paris = "Europe/Paris"
    # The night clocks go forward in Paris (2026-03-29): 03:00 local is 01:00 UTC, the day before 02:00 UTC.
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    first = next_run_after("0 3 * * *", paris, after)
    second = next_run_after("0 3 * * *", paris, first)
    assert first == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert second == datetime(2026, 3, 30, 1, 0, tzinfo=UTC)
    assert next_run_after("*/15 * * * *", "UTC", datetime(2026, 1, 1, 10, 15, tzinfo=UTC)) == \
        datetime(2026, 1, 1, 10, 30, tzinfo=UTC)  # strictly after


@pytest.mark.parametrize(("cron", "text"), [
    ("* * * * *", "Every minute"),
    ("*/10 * * * *", "Every 10 minutes"),
    ("0 * * * *", "Every hour"),
    ("15 * * * *", "Every hour at :15 past"),
    ("0 */6 * * *", "Every 6 hours"),
    ("0 3 * * *", "Every day at 03:00"),
    ("@daily", "Every day at 00:00"),
    ("30 9 * * 1-5", "Every weekday at 09:30"),
    ("0 8 * * 1", "Every Monday at 08:00"),
    ("0 8 * * mon,wed,fri", "Every Monday, Wednesday and Friday at 08:00"),
    ("0 12 1 * *", "On day 1 of every month at 12:00"),
    ("0 0 25 12 *", "Every year on December 25 at 00:00"),
    ("5,35 2-4 * * *", "5,35 2-4 * * *"),
])
def test_describe_cron(cron, text):
    assert describe_cron(cron) == text


def test_update_recomputes_the_next_run_and_toggle_clears_it(alpha, shop):
    project, suite = shop
    with tenant_context(alpha.organization):
        schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Nightly",
                                   cron="0 3 * * *")
        schedule = schedule_update(schedule=schedule, actor=alpha.developer, cron="30 14 * * *", name="Afternoon")
        assert (schedule.next_run_at.hour, schedule.next_run_at.minute) == (14, 30)
        schedule = schedule_toggle(schedule=schedule, actor=alpha.developer, enabled=False)
        assert schedule.enabled is False and schedule.next_run_at is None
        schedule = schedule_toggle(schedule=schedule, actor=alpha.developer, enabled=True)
        assert schedule.next_run_at is not None and schedule.next_run_at > timezone.now()
        changes = AuditEntry.objects.filter(action="schedule.updated", object_id=str(schedule.pk)).first().changes
        assert set(changes) >= {"enabled"}
        with pytest.raises(ApplicationError):
            schedule_update(schedule=schedule, actor=alpha.developer, next_run_at=timezone.now())
        with pytest.raises(ApplicationError) as raised:
            schedule_update(schedule=schedule, actor=alpha.developer, cron="bad")
        assert raised.value.code == "invalid_cron"
        assert Schedule.objects.get(pk=schedule.pk).cron == "30 14 * * *"
        schedule_id = schedule.pk
        schedule_delete(schedule=schedule, actor=alpha.developer)
        assert not Schedule.objects.filter(pk=schedule_id).exists()
        assert AuditEntry.objects.filter(action="schedule.deleted", object_id=str(schedule_id)).exists()


def test_dispatch_starts_one_run_and_advances(alpha, shop):
    project, suite = shop
    with tenant_context(alpha.organization):
        schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Nightly",
                                   cron="0 3 * * *", environment="staging", devices=["iphone-15"])
        assert dispatch_due_schedules() == 0  # not due yet
        make_due(schedule)
        assert dispatch_due_schedules() == 1
        run = Run.objects.get(schedule=schedule)
        assert run.trigger == RunTrigger.SCHEDULE and run.suite == suite
        assert run.started_by_label == "schedule Nightly" and run.started_by is None
        assert run.devices == ["iphone-15"] and run.environment.name == "staging"
        schedule.refresh_from_db()
        assert schedule.last_run == run and schedule.last_run_at is not None
        assert schedule.next_run_at > timezone.now()
        assert dispatch_due_schedules() == 0  # advanced: no second run
        assert Run.objects.filter(schedule=schedule).count() == 1


def test_missed_ticks_start_a_single_catch_up_run(alpha, shop):
    project, suite = shop
    with tenant_context(alpha.organization):
        schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Often",
                                   cron="*/5 * * * *")
        make_due(schedule, ago=timedelta(hours=10))  # the beat was down for 120 ticks
        assert dispatch_due_schedules() == 1
        assert dispatch_due_schedules() == 0
        schedule.refresh_from_db()
        assert timezone.now() < schedule.next_run_at <= timezone.now() + timedelta(minutes=5)


def test_disabled_schedules_are_skipped(alpha, shop):
    project, suite = shop
    with tenant_context(alpha.organization):
        schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Off",
                                   cron="0 3 * * *", enabled=False)
        Schedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now() - timedelta(minutes=1))
        assert dispatch_due_schedules() == 0
        assert not Run.objects.exists()


def test_a_schedule_that_cannot_run_is_advanced_not_retried(alpha, shop):
    project, suite = shop
    with tenant_context(alpha.organization):
        for test in suite.tests.all():
            test_services.test_update(test=test, actor=alpha.developer, status="archived")
        schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Empty",
                                   cron="0 3 * * *")
        make_due(schedule)
        assert dispatch_due_schedules() == 0
        schedule.refresh_from_db()
        assert schedule.next_run_at > timezone.now() and schedule.last_run is None
        entry = AuditEntry.objects.get(action="schedule.skipped", object_id=str(schedule.pk))
        assert entry.changes["code"] == "nothing_to_run" and "no runnable test" in entry.changes["reason"]
        assert dispatch_due_schedules() == 0
        assert AuditEntry.objects.filter(action="schedule.skipped").count() == 1
        assert not Run.objects.exists()


def test_dispatch_is_tenant_aware(alpha, bravo, shop):
    project, suite = shop
    with tenant_context(alpha.organization):
        alpha_schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Alpha nightly",
                                         cron="0 3 * * *")
        make_due(alpha_schedule)
    with tenant_context(bravo.organization):
        bravo_project = project_create(actor=bravo.admin, name="Bravo shop", base_url="https://bravo.example/")
        bravo_suite = make_suite(bravo, bravo_project, name="Bravo smoke")
        bravo_schedule = schedule_create(project=bravo_project, actor=bravo.developer, suite=bravo_suite,
                                         name="Bravo later", cron="0 3 * * *")  # not due
    connection.set_schema_to_public()

    assert dispatch_due_schedules_all_tenants() == 1

    with tenant_context(alpha.organization):
        assert list(Run.objects.values_list("suite__name", "trigger")) == [("Smoke", "schedule")]
    with tenant_context(bravo.organization):
        assert not Run.objects.exists()
        bravo_schedule.refresh_from_db()
        assert bravo_schedule.last_run_at is None
        make_due(bravo_schedule)
    assert dispatch_due_schedules_all_tenants() == 1
    with tenant_context(bravo.organization):
        assert list(Run.objects.values_list("suite__name", flat=True)) == ["Bravo smoke"]
    with tenant_context(alpha.organization):
        assert Run.objects.count() == 1


def test_the_beat_task_dispatches_through_a_real_worker(session_orgs, committed_project, celery_worker,
                                                        django_db_blocker):
    """The platform-level beat task (sent without a tenant, as celery beat does) reaches the tenant."""
    from apps.test_runs.tasks import dispatch_due_schedules as beat_task

    alpha = session_orgs["alpha"]
    project = committed_project(alpha, name="Scheduled shop")
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        suite = make_suite(alpha, project, name="Beat smoke")
        schedule = schedule_create(project=project, actor=alpha.developer, suite=suite, name="Beat",
                                   cron="0 3 * * *")
        make_due(schedule)
    # The worker consumes only the default queue: the run's browser tasks stay queued (and are flushed).
    worker = celery_worker(queues="default")
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        beat_task.delay()
        deadline = time.monotonic() + 30
        with tenant_context(alpha.organization):
            while not Run.objects.filter(schedule=schedule).exists():
                assert time.monotonic() < deadline, worker.stuck_report()
                assert worker.process.poll() is None, worker.log()[-3000:]
                time.sleep(0.2)
            run = Run.objects.get(schedule=schedule)
            assert run.trigger == "schedule" and run.total == 1
            schedule.refresh_from_db()
            assert schedule.next_run_at > timezone.now()
