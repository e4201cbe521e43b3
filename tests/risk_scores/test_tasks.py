"""The debounced recalculation after new events: one task per burst, sent into the tenant's schema, run by a
real worker."""

from __future__ import annotations

import base64
import json
import time

import pytest
import redis
from django.conf import settings
from django_tenants.utils import tenant_context

import tests.api_endpoints  # noqa: F401 - loads the API tables in the order they expect
from apps.projects.services import project_create
from apps.risk_scores.models import RiskScore
from apps.risk_scores.tasks import RECALCULATE_TASK, debounce_key, recalculate_project, request_risk_recalculation
from tests.risk_scores.endpoints import make_error


def broker() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def queued_tasks() -> list[dict]:
    """The messages waiting in the Celery queue `default` of the suite's Redis database (kombu's JSON envelope)."""
    messages = []
    for raw in broker().lrange("default", 0, -1):
        envelope = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        messages.append({"task": envelope["headers"]["task"], "args": args,
                         "schema": envelope["headers"].get("_schema_name"), "eta": envelope["headers"].get("eta")})
    return messages


@pytest.fixture
def two_projects(alpha):
    with tenant_context(alpha.organization):
        return [project_create(actor=alpha.admin, name=name, base_url="https://shop.example.com/")
                for name in ("Shop", "Blog")]


def test_a_burst_of_requests_sends_one_task_per_project(alpha, two_projects, django_capture_on_commit_callbacks):
    shop, blog = two_projects
    with tenant_context(alpha.organization), django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            request_risk_recalculation(shop.pk)
        request_risk_recalculation(blog.pk)

    tasks = queued_tasks()
    assert sorted(task["args"][0] for task in tasks) == sorted([str(shop.pk), str(blog.pk)])
    assert {task["task"] for task in tasks} == {RECALCULATE_TASK}
    assert {task["schema"] for task in tasks} == {alpha.organization.schema_name}
    assert all(task["eta"] for task in tasks)  # a short countdown, so the rest of the burst is in
    assert 0 < broker().ttl(debounce_key(alpha.organization.schema_name, shop.pk)) <= 10


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(alpha, two_projects,
                                                                 django_capture_on_commit_callbacks):
    with tenant_context(alpha.organization), django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_risk_recalculation(two_projects[0].pk)

    assert len(callbacks) == 1  # waits for the commit
    assert queued_tasks() == []
    assert not broker().exists(debounce_key(alpha.organization.schema_name, two_projects[0].pk))


def test_the_task_clears_the_flag_so_later_events_schedule_again(alpha, two_projects,
                                                                  django_capture_on_commit_callbacks):
    shop = two_projects[0]
    with tenant_context(alpha.organization):
        make_error(shop)
        with django_capture_on_commit_callbacks(execute=True):
            request_risk_recalculation(shop.pk)
        assert len(queued_tasks()) == 1

        assert recalculate_project(str(shop.pk)) == 3  # run in-process: page, component and endpoint
        with django_capture_on_commit_callbacks(execute=True):
            request_risk_recalculation(shop.pk)

        assert len(queued_tasks()) == 2
        assert RiskScore.objects.filter(project=shop).count() == 3


def test_a_worker_recalculates_the_tenants_project_once_per_burst(session_orgs, committed_project, celery_worker,
                                                                   django_db_blocker):
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, name="Risk burst shop")
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        make_error(project, url_path="/checkout", component="", api_endpoint="", occurrences=40)
        for _ in range(3):
            request_risk_recalculation(project.pk)  # no transaction: sent at once
    worker = celery_worker(queues="default")

    deadline = time.monotonic() + 60
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        while not RiskScore.objects.filter(project=project).exists():
            assert time.monotonic() < deadline, worker.stuck_report()
            time.sleep(0.3)
        score = RiskScore.objects.get(project=project)
        assert (score.entity_type, score.entity, score.occurrences) == ("page", "/checkout", 40)
    time.sleep(1)
    assert worker.log().count(f"Task {RECALCULATE_TASK}[") == 2  # received and succeeded: one task
    assert "succeeded" in worker.log()
