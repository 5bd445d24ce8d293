"""Benchmark: from a recorded payment to the customer back on the router, through the real queue and worker.

Run:  uv run python tests/bench/reactivation.py [--payments 60] [--queue postgres,redis]

A scratch database gets one operator whose customers are online through the RouterOS API peer
(``ispb_netsync.routeros.simulator``: the real wire protocol, served from this process) and were suspended by
the real ``billing.auto_suspend`` (their addresses on the router's suspended list). An ``ispb worker`` runs in
its own process, as in production, on the PostgreSQL queue (the embedded default) and/or Redis. Then, one
after another, the operator records each customer's payment through the panel (the app in this process, over
ASGI: middleware, session, CSRF, the payment's transaction) and the clock runs until the router no longer
lists the customer's address: commit → ``run_soon`` → worker → ``netsync.router_commands`` → RouterOS API.
Prints p50/p95/max per queue. Target: p95 under 1 s.
"""

import argparse
import asyncio
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from common import Figure, report, scratch_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: factories and peers

from factories import make_customer, make_package, make_router
from ispb_platform.app import create_app
from ispb_platform.auth.passwords import hash_password
from ispb_platform.billing.jobs import auto_suspend, generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_platform.jobs.queue import make_queue
from ispb_platform.network.jobs import run_due_commands
from ispb_platform.network.routers.commands import SUSPENDED_LIST
from ispb_platform.runtime import Runtime
from ispb_platform.settings import parse_settings
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform
from peers.routeros import RouterOSPeer
from processes import ispb_environment

SECRET = "r" * 40
PASSWORD = "benchmark password"
BILLED, OVERDUE = date(2026, 11, 1), date(2026, 11, 12)  # due 8 November + 3 grace days
PRICE = 80_000


def _ctx(db: Database, tenant: TenantRef, today: date) -> JobContext:
    return JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant, secret_key=SECRET)


def _listed(peer: RouterOSPeer) -> set[str]:
    return {e["address"] for e in peer.items("/ip/firewall/address-list") if e["list"] == SUSPENDED_LIST}


async def _suspended_customers(db: Database, peer: RouterOSPeer, count: int) -> tuple[TenantRef, dict[int, str]]:
    """``count`` customers online through the peer, billed and suspended on it; the tenant, their ids and
    addresses."""
    tenant = await create_tenant(db, "react-isp", "Reactivation ISP")
    addresses: dict[int, str] = {}
    async with db.tenant(tenant) as scope:
        package_id = await make_package(scope, name="Fiber 20", price_minor=PRICE, download_kbps=20000)
        router_id = await make_router(
            scope, name="Core", host=peer.host, api_port=peer.port, username="ispb", password="pass", secret_key=SECRET
        )
        for n in range(count):
            username, address = f"user{n}", f"10.20.{n // 250}.{n % 250 + 2}"
            customer_id = await make_customer(
                scope,
                code=f"C{n:06d}",
                name=f"Customer {n}",
                package_id=package_id,
                connection_date=date(2026, 1, 1),
                router_id=router_id,
                pppoe_username=username,
                pppoe_password="dial-in-pass",
                secret_key=SECRET,
            )
            peer.connect_ppp(username, address)
            addresses[customer_id] = address
    await generate_bills(_ctx(db, tenant, BILLED))
    counts = await auto_suspend(_ctx(db, tenant, OVERDUE))
    assert counts["suspended"] == count, counts
    await run_due_commands(_ctx(db, tenant, OVERDUE))
    assert _listed(peer) == set(addresses.values()), "the router did not get every suspension"
    await db.pool.execute(
        "INSERT INTO platform.platform_user (email, name, password_hash, role, tenant_id)"
        " VALUES ('bench@isp.test', 'Bench', $1, 'operator_admin', $2)",
        hash_password(PASSWORD),
        tenant.id,
    )
    return tenant, addresses


def _start_worker(url: str, redis_url: str | None, queue_name: str) -> subprocess.Popen[bytes]:
    settings = {"ISPB_SECRET_KEY": SECRET, "ISPB_QUEUE_NAME": queue_name, "ISPB_LOG_LEVEL": "warning"}
    if redis_url:
        settings["ISPB_REDIS_URL"] = redis_url
    ispb = Path(sys.executable).with_name("ispb")
    return subprocess.Popen([str(ispb), "worker"], env=ispb_environment(url, **settings), stdout=subprocess.DEVNULL)


async def _back_online(peer: RouterOSPeer, address: str, limit: float = 30.0) -> float:
    started = time.perf_counter()
    while address in _listed(peer):
        if time.perf_counter() - started > limit:
            raise TimeoutError(f"{address} still suspended on the router after {limit:.0f} s")
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


async def _one_queue(kind: str, redis_url: str | None, payments: int) -> None:
    async with scratch_database() as url, RouterOSPeer(username="ispb", password="pass") as peer:
        db = await Database.connect(url, min_size=2, max_size=10)
        queue_name = f"bench-{secrets.token_hex(3)}"
        queue = make_queue(redis_url, url, name=queue_name)
        worker: subprocess.Popen[bytes] | None = None
        try:
            await migrate_platform(db)
            _tenant, addresses = await _suspended_customers(db, peer, payments + 1)
            await queue.connect()
            worker = _start_worker(url, redis_url, queue_name)
            settings = parse_settings({"ISPB_DATABASE_URL": url, "ISPB_SECRET_KEY": SECRET})
            app = create_app(settings, runtime=Runtime(settings, url, db, queue))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://isp.test") as client:
                token = re.search(r'name="csrf-token" content="([^"]+)"', (await client.get("/login")).text)[1]
                signed_in = await client.post(
                    "/login", data={"email": "bench@isp.test", "password": PASSWORD, "_csrf_token": token}
                )
                assert signed_in.status_code in (302, 303), signed_in.status_code
                timings: list[float] = []
                for n, (customer_id, address) in enumerate(addresses.items()):
                    started = time.perf_counter()
                    paid = await client.post(
                        f"/panel/customers/{customer_id}/payments/new",
                        data={"_csrf_token": token, "amount": f"{PRICE // 100}", "method": "cash"},
                    )
                    assert paid.status_code == 303, (paid.status_code, paid.text[:300])
                    took = await _back_online(peer, address, limit=60.0 if n == 0 else 30.0)  # since the payment
                    if n:  # the first waits for the worker to start: not counted
                        timings.append(time.perf_counter() - started)
                    else:
                        print(f"{kind}: worker ready, first reactivation after {took:.1f} s (not counted)")
                    await asyncio.sleep(0.05)
            assert not _listed(peer), "a paid customer is still suspended on the router"
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)
            await queue.disconnect()
            await db.close()
    ordered = sorted(timings)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    print(
        f"{kind:9s} {len(ordered)} payments: p50 {statistics.median(ordered) * 1000:.0f} ms,"
        f" p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )
    report(
        Figure(f"payment to router reactivation p95, {kind} queue", f"{len(ordered)} payments", p95, "s", goal_below=1)
    )


def _redis_url() -> str | None:
    if url := os.environ.get("ISPB_BENCH_REDIS_URL"):
        return url
    with socket.socket() as probe:
        return "redis://127.0.0.1:6379/0" if probe.connect_ex(("127.0.0.1", 6379)) == 0 else None


async def main(payments: int, queues: list[str]) -> None:
    for kind in queues:
        redis_url = _redis_url() if kind == "redis" else None
        if kind == "redis" and redis_url is None:
            print("redis: no Redis on 127.0.0.1:6379 (or ISPB_BENCH_REDIS_URL): skipped")
            continue
        await _one_queue(kind, redis_url, payments)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payments", type=int, default=60)
    parser.add_argument("--queue", default="postgres,redis", help="postgres, redis or both (comma list)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.payments, arguments.queue.split(",")))
