"""`manage.py run_suite`: start a suite from a terminal or CI, wait with progress, write JUnit, exit codes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from apps.generated_tests import services as test_services
from apps.projects.services import project_create
from apps.test_runs.junit import parse_junit
from apps.test_runs.models import Run, RunStatus
from tests.runtime import ROOT, subprocess_env

FEATURED = {"locators": [{"kind": "test_id", "value": "featured-products"}], "description": "Featured products"}
LOGO = {"locators": [{"kind": "test_id", "value": "logo"}], "description": "Shop logo"}
PASSING = {"version": 1, "start_url": "/", "steps": [
    {"action": "assert_text", "target": FEATURED, "text": "Aurora Wireless Headphones"}]}
FAILING = {"version": 1, "start_url": "/", "steps": [
    {"action": "assert_visible", "target": LOGO},
    {"action": "assert_text", "target": LOGO, "text": "Definitely not the shop", "timeout_ms": 1000}]}


def run_suite(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "run_suite", *args], cwd=ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def shop_suites(session_orgs, committed_project, django_db_blocker, demo_shop):
    """A committed project on the demo shop with a passing suite "Smoke" and a failing one "Broken"."""
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, base_url=demo_shop, name="CLI shop")
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        home = test_services.test_create(project=project, actor=alpha.developer, name="Home shows products",
                                         definition=PASSING, status="approved")
        logo = test_services.test_create(project=project, actor=alpha.developer, name="Logo says something else",
                                         definition=FAILING, status="approved")
        test_services.suite_create(project=project, actor=alpha.developer, name="Smoke", tests=[home.pk])
        test_services.suite_create(project=project, actor=alpha.developer, name="Broken", tests=[home.pk, logo.pk])
    return alpha, project


def runs_of(alpha, project, django_db_blocker) -> list[Run]:
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        return list(Run.objects.filter(project=project).order_by("number"))


def test_a_passing_suite_exits_0_and_writes_junit(shop_suites, celery_worker, django_db_blocker, tmp_path):
    alpha, project = shop_suites
    worker = celery_worker(queues="default,browser")
    junit = tmp_path / "reports" / "argus.xml"
    done = run_suite("--org", "alpha", "--project", project.slug, "--suite", "Smoke", "--wait",
                     "--timeout", "180", "--junit", str(junit))
    assert done.returncode == 0, done.stdout + done.stderr + worker.log()[-3000:]
    [run] = runs_of(alpha, project, django_db_blocker)
    assert run.status == RunStatus.PASSED and run.trigger == "cli" and run.started_by_label == "command line"
    assert f"Started run #{run.number} ({run.pk}): 1 test(s) on desktop" in done.stdout
    assert f"/runs/{run.pk}/" in done.stdout
    assert f"Run #{run.number} passed in" in done.stdout and "1 passed, 0 failed" in done.stdout
    assert "Failures:" not in done.stdout
    assert "1/1" in done.stderr  # the progress bar reached the end
    cases = parse_junit(junit.read_bytes())
    assert [(case.name, case.classname, case.status) for case in cases] == [
        ("Home shows products [desktop]", "Smoke", "passed")]


def test_a_failing_suite_exits_1_with_a_table_of_failures(shop_suites, celery_worker, django_db_blocker, tmp_path):
    alpha, project = shop_suites
    worker = celery_worker(queues="default,browser")
    junit = tmp_path / "broken.xml"
    done = run_suite("--org", "alpha", "--project", project.slug, "--suite", "broken", "--devices",
                     "desktop,iphone-15", "--junit", str(junit))  # --junit implies --wait
    assert done.returncode == 1, done.stdout + done.stderr + worker.log()[-3000:]
    [run] = runs_of(alpha, project, django_db_blocker)
    assert run.status == RunStatus.FAILED and (run.total, run.passed, run.failed) == (4, 2, 2)
    assert f"Run #{run.number} failed" in done.stdout and "2 passed, 2 failed" in done.stdout
    table = done.stdout.split("Failures:")[1]
    rows = [line for line in table.splitlines() if line.startswith("Logo says something else")]
    assert len(rows) == 2
    assert {row.split(" | ")[1].strip() for row in rows} == {"desktop", "iphone-15"}
    assert all("2. Check Shop logo contains" in row for row in rows), rows
    assert f"CommandError: Run #{run.number} failed." in done.stderr
    cases = {case.name: case for case in parse_junit(junit.read_bytes())}
    assert cases["Logo says something else [iphone-15]"].status == "failed"
    assert cases["Home shows products [iphone-15]"].status == "passed"


def test_bad_arguments_exit_2(shop_suites, django_db_blocker):
    alpha, project = shop_suites
    done = run_suite("--org", "alpha", "--project", project.slug, "--suite", "Nope")
    assert done.returncode == 2
    assert "No suite “Nope” in" in done.stderr and "suites: Broken, Smoke" in done.stderr
    done = run_suite("--org", "alpha", "--project", project.slug, "--suite", "Smoke", "--devices", "desktop,toaster")
    assert done.returncode == 2 and "Unknown device(s): toaster." in done.stderr
    assert run_suite("--project", "x", "--suite", "y").returncode == 2  # argparse: --org is required
    assert runs_of(alpha, project, django_db_blocker) == []


@pytest.mark.parametrize(("arguments", "message"), [
    (["--org", "nobody"], "No organization with the slug “nobody”."),
    (["--project", "missing-project"], "No project “missing-project” in alpha."),
    (["--environment", "production"], "The project has no “production” environment."),
    (["--retries", "9"], "Retries must be between 0 and 3."),
    (["--timeout", "0", "--wait"], "--timeout must be a positive number of seconds."),
])
def test_each_bad_argument_is_named(alpha, arguments, message):
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Arg shop", base_url="https://shop.example/")
        test = test_services.test_create(project=project, actor=alpha.developer, name="T", definition=PASSING)
        test_services.suite_create(project=project, actor=alpha.developer, name="Smoke", tests=[test.pk])
    # argparse keeps the last value of an option given twice: the bad one.
    argv = ["--org", "alpha", "--project", project.slug, "--suite", "Smoke", *arguments]
    with pytest.raises(CommandError) as raised:
        call_command("run_suite", *argv, stdout=StringIO(), stderr=StringIO())
    assert raised.value.returncode == 2
    assert str(raised.value) == message
    with tenant_context(alpha.organization):
        assert not Run.objects.filter(project=project).exists()


def test_without_wait_it_starts_the_run_and_exits_0(alpha):
    with tenant_context(alpha.organization):
        project = project_create(actor=alpha.admin, name="Queue shop", base_url="https://shop.example/",
                                 environments={"staging": "https://staging.shop.example/"})
        test = test_services.test_create(project=project, actor=alpha.developer, name="T", definition=PASSING)
        test_services.suite_create(project=project, actor=alpha.developer, name="Smoke", tests=[test.pk])
    out = StringIO()
    call_command("run_suite", "--org", "alpha", "--project", project.slug, "--suite", "Smoke", "--devices",
                 "desktop,pixel-8", "--environment", "staging", "--retries", "2", stdout=out, stderr=StringIO())
    with tenant_context(alpha.organization):
        run = Run.objects.get(project=project)
    assert (run.status, run.trigger, run.retries, run.total) == (RunStatus.QUEUED, "cli", 2, 2)
    assert run.devices == ["desktop", "pixel-8"] and run.target_url == "https://staging.shop.example/"
    assert out.getvalue().splitlines()[0] == f"Started run #{run.number} ({run.pk}): 2 test(s) on desktop, pixel-8"
    assert out.getvalue().splitlines()[1].endswith(f"alpha.localhost/runs/{run.pk}/")


def test_ctrl_c_cancels_the_run_and_exits_130(shop_suites, django_db_blocker):
    alpha, project = shop_suites
    # No worker: the run stays queued while the command waits.
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_suite", "--org", "alpha", "--project", project.slug, "--suite", "Smoke",
         "--wait"], cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Started run #"), first_line + process.stderr.read()
        time.sleep(1.5)  # inside the polling loop
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stdout + stderr
    assert "Interrupted: cancelling run #" in stderr
    [run] = runs_of(alpha, project, django_db_blocker)
    assert run.status == RunStatus.CANCELLED and run.cancel_requested_at is not None


def test_waiting_longer_than_the_timeout_cancels_and_exits_1(shop_suites, django_db_blocker):
    alpha, project = shop_suites
    started = time.monotonic()
    done = run_suite("--org", "alpha", "--project", project.slug, "--suite", "Smoke", "--wait", "--timeout", "2")
    assert done.returncode == 1
    assert time.monotonic() - started < 30
    assert "did not finish within 2 s; it was cancelled." in done.stderr
    [run] = runs_of(alpha, project, django_db_blocker)
    assert run.status == RunStatus.CANCELLED
