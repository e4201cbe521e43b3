"""TEMPORARY bench (not collected): Argus run vs the same steps as plain Selenium (exported file)."""
import re
import subprocess
import sys
import time

from django_tenants.utils import tenant_context

from apps.generated_tests.export import export_tests_to_pytest
from apps.projects.models import Environment, EnvironmentVariable
from apps.test_runs.models import Run
from apps.test_runs.services import run_create
from demo_shop.suite import load_suite
from tests.test_runs.test_engine import add_tests, wait_until_finished


def test_bench(session_orgs, django_db_blocker, committed_project, celery_worker, demo_shop, tmp_path):
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, base_url=demo_shop, environments={"dev": demo_shop})
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        env = Environment.objects.get(project=project, name="dev")
        EnvironmentVariable.objects.create(environment=env, name="SHOP_EMAIL", value="demo@shop.test")
        EnvironmentVariable.objects.create(environment=env, name="SHOP_PASSWORD", value="shop-password-1", is_secret=True)
        suite = load_suite()
        tests = add_tests(alpha, project, {t["name"]: {k: t[k] for k in ("version", "start_url", "steps")} for t in suite})
        path = tmp_path / "test_plain.py"
        path.write_text(export_tests_to_pytest(tests, demo_shop))
        worker = celery_worker(concurrency=1)
        warm = run_create(project=project, actor=alpha.developer, tests=tests[:1], environment="dev")
        wait_until_finished(warm.pk, worker)
        figures = {}
        for round_ in range(2):
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:django", "-p", "no:cacheprovider", str(path)],
                                  cwd=tmp_path, capture_output=True, text=True,
                                  env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHOP_EMAIL": "demo@shop.test",
                                       "SHOP_PASSWORD": "shop-password-1", "ARGUS_BASE_URL": demo_shop})
            wall = time.monotonic() - started
            inner = float(re.search(r"in ([\d.]+)s", done.stdout).group(1))
            figures.setdefault("plain", []).append((round(wall, 2), inner, done.stdout.strip().splitlines()[-1]))
            for policy in ("every_step", "on_failure"):
                started = time.monotonic()
                run = run_create(project=project, actor=alpha.developer, tests=tests, environment="dev", screenshots=policy)
                run = wait_until_finished(run.pk, worker, seconds=600)
                figures.setdefault(policy, []).append((round(time.monotonic() - started, 2), run.status, run.passed))
        print("\nBENCH", figures)
