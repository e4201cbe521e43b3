"""Argus's overhead on a browser run: the demo suite end to end versus plain Selenium.

Argus: the demo shop's "Smoke" suite (22+ tests) as one run, from `run_create` until the run is
finished in the database, with a real Celery worker process running one fresh Chromium per
test (screenshots of every step, trace rows, live updates: everything the product does).

Baseline, measured in the same invocation and interleaved with the Argus runs: the same tests
exported by Argus as plain pytest + Selenium code (apps.generated_tests.export) and run by plain
pytest in one process, one after another, each in a fresh Chromium just like Argus. No Argus
code runs in the baseline.

Reported: wall times (median of --repeat), the ratio Argus / baseline, the per-step overhead in
ms, and the throughput with 1 and 2 browsers (worker concurrency). Runs in its own database
(`argus_bench_runs`, dropped and recreated) and Redis database 10, so development data and a
running test suite are untouched:

    .venv/bin/python bench/run_overhead.py               # 3 repetitions
    .venv/bin/python bench/run_overhead.py --repeat 1    # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REDIS_DB = "10"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bench_database_url() -> str:
    import psycopg

    port = json.loads((ROOT / ".argus" / "services.json").read_text())["postgres_port"]
    with psycopg.connect(host="127.0.0.1", port=port, user="argus", dbname="postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS argus_bench_runs WITH (FORCE)")
        conn.execute("CREATE DATABASE argus_bench_runs")
    return f"postgres://argus@127.0.0.1:{port}/argus_bench_runs"


def _wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - local demo shop
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _start_shop() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "demo_shop", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/"
    _wait_http(f"{base_url}health")
    return process, base_url


def _start_worker(concurrency: int, log_dir: Path) -> subprocess.Popen:
    log = (log_dir / f"worker-{concurrency}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "argus", "worker", "-Q", "browser,default", "--concurrency",
         str(concurrency), "--without-mingle", "--without-gossip", "--loglevel", "warning",
         "-n", f"bench{concurrency}@%h"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _setup_tenant(shop_url: str):
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from apps.generated_tests.models import TestStatus
    from apps.generated_tests.services import suite_create, tests_import
    from apps.organizations.services import organization_provision
    from apps.projects.models import Environment, EnvironmentVariable
    from apps.projects.services import project_create
    from demo_shop.suite import load_suite

    call_command("setup_platform", verbosity=0)
    organization, owner = organization_provision(name="Bench", slug="bench", owner_email="bench@bench.test",
                                                 owner_password="Bench-password-1")
    with tenant_context(organization):
        project = project_create(actor=owner, name="Demo shop", base_url=shop_url, environments={"dev": shop_url})
        environment = Environment.objects.get(project=project, name="dev")
        for name, value, secret in (("SHOP_EMAIL", "demo@shop.test", False),
                                    ("SHOP_PASSWORD", "shop-password-1", True)):
            EnvironmentVariable.objects.create(environment=environment, name=name, value=value, is_secret=secret)
        tests = tests_import(project=project, actor=owner, document=load_suite())
        for test in tests:
            test.status = TestStatus.APPROVED
            test.save(update_fields=["status"])
        suite = suite_create(project=project, actor=owner, name="Smoke", tests=[test.pk for test in tests],
                             default_environment="dev", default_devices=["desktop"])
    return organization, owner, project, suite, tests


def _argus_run(organization, owner, project, suite, screenshots: str, tests=None) -> tuple[float, dict]:
    from django_tenants.utils import tenant_context

    from apps.test_runs.models import Run
    from apps.test_runs.services import run_create

    with tenant_context(organization):
        started = time.perf_counter()
        run = run_create(project=project, actor=owner, suite=suite, tests=tests, screenshots=screenshots,
                         trigger="cli")
        while True:
            run = Run.objects.get(pk=run.pk)
            if run.is_finished:
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        return wall, {"status": run.status, "passed": run.passed, "total": run.total,
                      "steps": sum(len(result.definition["steps"]) for result in run.results.all())}


def _baseline(exported: Path, env: dict[str, str]) -> float:
    """The exported suite run by plain pytest, each test in a fresh Chromium. The time is pytest's own
    session time ("N passed in X s"), so interpreter start-up and collection don't count against it."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(exported), "-q", "-p", "no:cacheprovider", "-p", "no:django",
         "-o", "addopts=", "--rootdir", str(exported.parent)],
        cwd=exported.parent, env=env, capture_output=True, text=True, check=False,
    )
    match = re.search(r"(\d+) passed in ([\d.]+)s", completed.stdout)
    if completed.returncode != 0 or match is None:
        raise SystemExit(f"the exported suite did not pass:\n{completed.stdout[-3000:]}")
    return float(match.group(2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus.settings")
    os.environ["ARGUS_REDIS_DB"] = REDIS_DB
    log_dir = Path(tempfile.mkdtemp(prefix="argus-bench-"))
    os.environ["MEDIA_ROOT"] = str(log_dir / "media")

    import django

    django.setup()
    from django.core.cache import caches

    from apps.generated_tests.export import export_tests_to_pytest

    caches["default"].clear()  # its own Redis database: nothing of a previous run is queued
    shop, shop_url = _start_shop()
    worker = None
    try:
        organization, owner, project, suite, tests = _setup_tenant(shop_url)
        exported = log_dir / "test_exported_suite.py"
        exported.write_text(export_tests_to_pytest(tests, base_url=shop_url))
        baseline_env = {"PATH": os.environ["PATH"], "HOME": str(log_dir),
                        "ARGUS_BASE_URL": shop_url, "SHOP_EMAIL": "demo@shop.test",
                        "SHOP_PASSWORD": "shop-password-1"}

        figures: dict[str, list[float]] = {"baseline": [], "argus_every_step": [], "argus_on_failure": [],
                                           "argus_2_browsers": []}
        steps = 0
        worker = _start_worker(1, log_dir)
        _argus_run(organization, owner, project, suite, "every_step", tests=tests[:1])  # warm-up
        _baseline(exported, baseline_env)  # warm-up
        for repetition in range(args.repeat):
            print(f"repetition {repetition + 1}/{args.repeat}", flush=True)
            figures["baseline"].append(_baseline(exported, baseline_env))
            wall, info = _argus_run(organization, owner, project, suite, "every_step")
            assert info["passed"] == info["total"], f"the demo suite did not pass through Argus: {info}"
            steps = info["steps"]
            figures["argus_every_step"].append(wall)
            figures["argus_on_failure"].append(_argus_run(organization, owner, project, suite, "on_failure")[0])
        _stop(worker)
        worker = _start_worker(2, log_dir)
        _argus_run(organization, owner, project, suite, "every_step", tests=tests[:2])  # warm-up
        for _ in range(args.repeat):
            figures["argus_2_browsers"].append(_argus_run(organization, owner, project, suite, "every_step")[0])
    finally:
        if worker is not None:
            _stop(worker)
        shop.terminate()

    median = {key: statistics.median(values) for key, values in figures.items()}
    base = median["baseline"]
    print(f"\n{len(tests)} tests, {steps} steps, desktop, median of {args.repeat}\n")
    print("| variant | wall time | ratio to baseline | overhead per step |")
    print("|---|---:|---:|---:|")
    for key, label in (("baseline", "plain Selenium (exported suite), 1 browser"),
                       ("argus_every_step", "Argus, 1 browser, screenshot every step"),
                       ("argus_on_failure", "Argus, 1 browser, screenshots on failure"),
                       ("argus_2_browsers", "Argus, 2 browsers, screenshot every step")):
        per_step = (median[key] - base) * 1000 / steps if key != "baseline" else 0
        print(f"| {label} | {median[key]:.2f} s | {median[key] / base:.2f} | {per_step:+.0f} ms |")
    print(f"\nthroughput: 1 browser {len(tests) / median['argus_every_step'] * 60:.0f} tests/min, "
          f"2 browsers {len(tests) / median['argus_2_browsers'] * 60:.0f} tests/min "
          f"(x{median['argus_every_step'] / median['argus_2_browsers']:.2f})")
    print(json.dumps({key: [round(value, 3) for value in values] for key, values in figures.items()}))


if __name__ == "__main__":
    main()
