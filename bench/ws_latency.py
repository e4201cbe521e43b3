"""Live updates: publish → receive latency through the real ASGI server, and what one
`live.publish` costs the worker that calls it.

Starts uvicorn (`argus.asgi:application`) on its own database (`argus_bench_ws`, dropped and
recreated; the development data is untouched), connects N WebSocket clients to one run with an API
key, then a separate process publishes M `step.finished` deltas exactly as a worker does
(`apps.test_runs.live.publish` inside the tenant's schema), each carrying `time.time_ns()` in its
data. Latency is the client's receive time minus that stamp (same machine, same clock).

The publishing process also times each `live.publish` call, and, as the baseline, the same group
sends made as the first version did (`async_to_sync(layer.group_send)` per call: a new event loop
and a new Redis connection every time). Those baseline messages go to the same group, so Redis does
the same work, but carry no seq and are dropped by the consumers.

    .venv/bin/python bench/ws_latency.py                       # 1, 10 and 50 clients, 300 deltas each
    .venv/bin/python bench/ws_latency.py --clients 10 --events 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import bench_database_url, configure, free_port, percentile  # noqa: E402 - bench/ is on the path

BENCH_DATABASE = "argus_bench_ws"








# ---------------------------------------------------------------- the publishing process


def publisher(run_id: str, schema_name: str, events: int, interval_ms: float) -> None:
    """Publishes as a worker does and prints the cost of every call (ns) as JSON."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django_tenants.utils import schema_context

    from apps.test_runs import live

    costs: dict[str, list[int]] = {"first": [], "publish": [], "baseline": []}
    # Start-up (Django, imports) stays out of the round: the clients connect once this is ready.
    print("ready", flush=True)
    sys.stdin.readline()
    with schema_context(schema_name):
        started = time.perf_counter_ns()
        # The first call starts the process's loop and connection, as a worker's first step does.
        live.publish(run_id, "bench.warmup", {})
        costs["first"].append(time.perf_counter_ns() - started)
        for index in range(events):
            data = {"result": "bench", "attempt": 0, "index": index, "action": "click", "status": "passed",
                    "duration_ms": 12, "page_url": "http://shop.example/cart", "sent_ns": time.time_ns()}
            started = time.perf_counter_ns()
            live.publish(run_id, "step.finished", data)
            costs["publish"].append(time.perf_counter_ns() - started)
            time.sleep(interval_ms / 1000)
        layer = get_channel_layer()
        group = live.run_group(run_id)
        for index in range(events):
            message = {"type": live.RUN_EVENT_TYPE, "event": "bench.baseline", "run_id": run_id, "at": "",
                       "data": {"index": index}}
            started = time.perf_counter_ns()
            async_to_sync(layer.group_send)(group, message)
            costs["baseline"].append(time.perf_counter_ns() - started)
            time.sleep(interval_ms / 1000)
    print(json.dumps(costs))


# ---------------------------------------------------------------- the measuring process


def _setup_tenant() -> tuple[str, str, str, str]:
    """An organization with a running run and a read key: host, schema, run id and key."""
    from django.core.management import call_command
    from django_tenants.utils import tenant_context

    from apps.accounts.services import api_key_create
    from apps.organizations.services import organization_provision
    from apps.organizations.urls_helpers import tenant_host
    from apps.projects.services import project_create
    from apps.test_runs.models import Run, RunStatus

    call_command("setup_platform", verbosity=0)
    organization, owner = organization_provision(
        name="WS Bench", slug="wsbench", owner_email="owner@wsbench.test",
        owner_password="bench-password-123",  # noqa: S106 - throwaway bench account
    )
    with tenant_context(organization):
        project = project_create(actor=owner, name="Bench shop", base_url="http://127.0.0.1:9/")
        run = Run.objects.create(project=project, number=1, devices=["desktop"], total=1, status=RunStatus.RUNNING)
        _, key = api_key_create(organization=organization, actor=owner, name="bench", scopes=["read"])
    return tenant_host(organization.slug), organization.schema_name, str(run.pk), key


def _start_server(port: int, log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "argus.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):  # noqa: S310 - local
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log_path.read_text()[-3000:]}") from None
            time.sleep(0.2)


async def _client(port: int, host: str, run_id: str, key: str, events: int, ready: asyncio.Event,
                  connected: list[int], latencies: list[float]) -> int:
    from websockets.asyncio.client import connect

    sock_host = f"{host}:{port}"
    async with connect(f"ws://{sock_host}/ws/runs/{run_id}/", host="127.0.0.1", port=port, proxy=None,
                       origin=f"http://{sock_host}", additional_headers={"Authorization": f"Bearer {key}"},
                       max_queue=None) as ws:
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot", snapshot
        connected.append(1)
        ready.set()
        received = 0
        while received < events:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
            except TimeoutError:
                break
            if message.get("event") == "step.finished":
                latencies.append((time.time_ns() - message["data"]["sent_ns"]) / 1e6)
                received += 1
        return received


async def _round(port: int, host: str, schema: str, run_id: str, key: str, clients: int, events: int,
                 interval_ms: float) -> tuple[list[float], int, dict[str, list[int]]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--publish", run_id, "--schema", schema, "--events", str(events),
        "--interval-ms", str(interval_ms), "--redis-db", os.environ["ARGUS_REDIS_DB"],
        cwd=ROOT, env=dict(os.environ), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert (await process.stdout.readline()).strip() == b"ready"
    ready = asyncio.Event()
    connected: list[int] = []
    latencies: list[float] = []
    tasks = [asyncio.create_task(_client(port, host, run_id, key, events, ready, connected, latencies))
             for _ in range(clients)]
    while len(connected) < clients:
        await asyncio.sleep(0.01)
        if any(task.done() for task in tasks):
            await asyncio.gather(*tasks)  # surfaces the failure
    output, _ = await process.communicate(b"go\n")
    delivered = sum(await asyncio.gather(*tasks))
    return latencies, delivered, json.loads(output.decode().strip().splitlines()[-1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,10,50", help="comma-separated numbers of sockets on the run")
    parser.add_argument("--events", type=int, default=300, help="step.finished deltas published per round")
    parser.add_argument("--interval-ms", type=float, default=10, help="pause between two deltas")
    parser.add_argument("--redis-db", type=int, default=2, help="Redis logical database (never 0 or 1)")
    parser.add_argument("--publish", metavar="RUN_ID", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.publish:
        configure(args.redis_db)
        publisher(args.publish, args.schema, args.events, args.interval_ms)
        return

    if args.redis_db in (0, 1):
        parser.error("Redis databases 0 and 1 belong to the development server and the test suite.")
    os.environ["DATABASE_URL"] = bench_database_url(BENCH_DATABASE)
    configure(args.redis_db)
    host, schema, run_id, key = _setup_tenant()
    port = free_port()
    log_path = ROOT / ".argus" / "bench-ws-server.log"
    server = _start_server(port, log_path)
    rows, costs_rows = [], []
    try:
        for clients in (int(value) for value in args.clients.split(",")):
            server_cpu = _cpu_seconds(server.pid)
            latencies, delivered, costs = asyncio.run(
                _round(port, host, schema, run_id, key, clients, args.events, args.interval_ms))
            server_cpu = _cpu_seconds(server.pid) - server_cpu
            rows.append((clients, delivered, clients * args.events, latencies, server_cpu))
            costs_rows.append((clients, costs))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # sockets a failed round left open hold up a graceful stop
            server.kill()
            server.wait()

    print(f"\n{args.events} step.finished deltas per round, one every {args.interval_ms:g} ms, "
          f"published from a separate process; latency = receive time - publish time")
    print("| clients | delivered | p50 | p95 | max | server CPU per delivered delta |")
    print("|---:|---:|---:|---:|---:|---:|")
    for clients, delivered, expected, latencies, server_cpu in rows:
        print(f"| {clients} | {delivered}/{expected} | {statistics.median(latencies):.1f} ms | "
              f"{percentile(latencies, 0.95):.1f} ms | {max(latencies):.1f} ms | "
              f"{server_cpu / max(delivered, 1) * 1e6:.0f} µs |")
    print("\nCost of one call in the publishing (worker) process")
    print("| clients | live.publish mean | p95 | first call | baseline: async_to_sync(group_send) mean | p95 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for clients, costs in costs_rows:
        publish_ms = [value / 1e6 for value in costs["publish"]]
        baseline_ms = [value / 1e6 for value in costs["baseline"]]
        print(f"| {clients} | {statistics.mean(publish_ms):.2f} ms | {percentile(publish_ms, 0.95):.2f} ms | "
              f"{costs['first'][0] / 1e6:.1f} ms | {statistics.mean(baseline_ms):.2f} ms | "
              f"{percentile(baseline_ms, 0.95):.2f} ms |")


if __name__ == "__main__":
    main()
