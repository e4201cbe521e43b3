"""Real processes for integration tests: the ASGI server, Celery workers and the demo shop, all on
the test database and the suite's Redis database.

Tests that use them commit their rows (a worker in another process can't see the `db` fixture's
uncommitted transaction), so they take `committed_project`, which deletes what it made afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    db = connection.settings_dict
    assert db["NAME"].startswith("test_"), "refusing to point a subprocess at a real database"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT']}/{db['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a child process of the suite: the test database, the suite's Redis db."""
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "argus-test-suite-only"),
        "DEBUG": "0",
        "ARGUS_HTTPS": "0",
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **extra,
    }


def wait_for_http(url: str, process: subprocess.Popen, log_path: Path, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own local server
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not come up:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class AsgiServer:
    port: int
    process: subprocess.Popen
    log_path: Path

    def url(self, host: str, path: str = "/") -> str:
        """An http URL for a host (`alpha.localhost`); Chromium resolves *.localhost itself."""
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, tmp_path_factory) -> Iterator[AsgiServer]:
    """The real ASGI server (HTTP and WebSockets) on a free port, on the test database."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("asgi") / "server.log"
    env = subprocess_env(ARGUS_PUBLIC_PORT=str(port), ARGUS_PUBLIC_SCHEME="http")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "argus.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    wait_for_http(f"http://127.0.0.1:{port}/health", process, log_path)
    yield AsgiServer(port=port, process=process, log_path=log_path)
    stop_process(process)


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stuck_report(self, size: int = 6000) -> str:
        """The end of the log after every worker process printed its threads' stacks (SIGUSR2, see
        argus/celery.py): for a test that gave up waiting, where the worker was waiting."""
        for pid in self._python_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR2)
        time.sleep(1)
        return self.log()[-size:]

    def _python_pids(self) -> list[int]:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError):
                text = stat.read_text()
                name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
                # fields[2] is the process group: the worker's own session (start_new_session below).
                if int(fields[2]) == self.process.pid and name.startswith(("python", "celery")):
                    pids.append(int(stat.parent.name))
        return pids

    def kill(self) -> None:
        """SIGKILL the worker and its children (browsers), as when a machine dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def celery_worker(django_db_setup, tmp_path) -> Iterator[Callable[..., Worker]]:
    """`celery_worker(queues="default,browser", concurrency=1)`: a real worker process on the test
    database; stopped (warm shutdown) after the test. Redis is flushed between tests, so no task
    of one test reaches the next test's worker."""
    started: list[Worker] = []

    def start(queues: str = "default,browser", concurrency: int = 1, **extra_env: str) -> Worker:
        log_path = tmp_path / f"worker-{len(started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "argus", "worker", "-Q", queues, "--concurrency",
                 str(concurrency), "--without-mingle", "--without-gossip", "--loglevel", "info",
                 "-n", f"test{len(started)}-{os.getpid()}@%h"],
                cwd=ROOT, env=subprocess_env(**extra_env), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so kill() also takes its browsers
            )
        worker = Worker(process=process, log_path=log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        stop_process(worker.process, timeout=30)


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory) -> Iterator[str]:
    """The demo shop (demo_shop/) served on a free port; yields its base URL ending in '/'."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("demo_shop") / "shop.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "demo_shop", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/"
    wait_for_http(f"{base_url}health", process, log_path)
    yield base_url
    stop_process(process)


@pytest.fixture
def committed_project(session_orgs, django_db_blocker) -> Iterator[Callable[..., object]]:
    """`committed_project(org, base_url=...)`: a project committed in the org's schema (visible to
    worker and server processes), deleted with everything under it after the test."""
    from apps.projects.services import project_create

    made = []

    def make(org, base_url: str = "http://127.0.0.1:9/", name: str | None = None, **fields):
        with django_db_blocker.unblock(), tenant_context(org.organization):
            project = project_create(actor=org.admin, name=name or f"Run project {len(made) + 1}",
                                     base_url=base_url, **fields)
        made.append((org, project))
        return project

    yield make
    with django_db_blocker.unblock():
        for org, project in made:
            with tenant_context(org.organization):
                project.delete()
        connection.set_schema_to_public()
