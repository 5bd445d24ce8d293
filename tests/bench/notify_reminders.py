"""Benchmark: 100,000 due-date reminders across 100 tenants: compute and enqueue, then deliver.

Run:  uv run python tests/bench/notify_reminders.py [--tenants 100] [--customers 1140] [--parallel 4]
      [--client own|aiohttp]   (aiohttp: ``uv run --with aiohttp``; the sender's `HttpClient` replaced by
      ``notify_http_clients.AiohttpClient``, one aiohttp session behind the same ``request``, for issue 11)

A scratch database (ISPB_BENCH_DATABASE_URL, else 127.0.0.1:5432, else an embedded PostgreSQL) gets the
tenants with the demo customers, their bills (due on 8 November) and a due-date rule for the due day; every
tenant's SMS gateway is the local HTTP gateway peer (tests/peers/sms_gateway.py: a real HTTP/1.1 server with
keep-alive, like Kannel, in its own process). Then it times, ``--parallel`` tenants at a time, in this one
process (one worker):

1. ``notify.due_date`` for every tenant: select bills, render each message, insert into the outbox;
2. ``notify.send_outbox`` for every tenant: claim, take credit, send over HTTP, record each outcome.

Prints messages, seconds, messages per second and the sender's CPU per message. Targets: all enqueued in
under 30 s, delivered at over 1,000 messages/s.
"""

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from common import Figure, peak_rss, report, scratch_database

from ispb_notify import OutboundPolicy
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_platform.jobs.job import JobContext
from ispb_platform.notify.jobs import due_date_reminders, send_outbox
from ispb_tenants import Database, TenantRef, create_tenant, migrate_platform

DUE = date(2026, 11, 8)
TESTS = Path(__file__).resolve().parents[1]
# The gateway peer runs in its own process, as a real gateway would: its work must not eat the sender's CPU.
PEER = """
import asyncio, signal, sys
sys.path.insert(0, sys.argv[1])
from peers.sms_gateway import SmsGatewayPeer

async def main():
    async with SmsGatewayPeer() as peer:
        print(peer.url, flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        print(len(peer.messages), flush=True)

asyncio.run(main())
"""


def _ctx(db: Database, tenant: TenantRef, day: date) -> JobContext:
    now = datetime.combine(day, datetime.min.time().replace(hour=10, minute=30), ZoneInfo(tenant.timezone))
    # the gateway peer is on loopback, which the platform allows only when ISPB_OUTBOUND_ALLOW says so
    outbound = OutboundPolicy.parse("127.0.0.1")
    return JobContext(db=db, today=day, now=now.astimezone(UTC), tenant=tenant, secret_key="b" * 40, outbound=outbound)


async def _each(tenants: list[TenantRef], parallel: int, work) -> float:  # type: ignore[no-untyped-def]
    gate = asyncio.Semaphore(parallel)

    async def run(tenant: TenantRef) -> None:
        async with gate:
            await work(tenant)

    started = time.perf_counter()
    await asyncio.gather(*(run(t) for t in tenants))
    return time.perf_counter() - started


async def main(tenant_count: int, customers: int, parallel: int) -> None:
    async with scratch_database() as url:
        db = await Database.connect(url, min_size=2, max_size=parallel * 2 + 4)
        try:
            await _measure(db, tenant_count, customers, parallel)
        finally:
            await db.close()


async def _measure(db: Database, tenant_count: int, customers: int, parallel: int) -> None:
    peer = await asyncio.create_subprocess_exec(sys.executable, "-c", PEER, str(TESTS), stdout=asyncio.subprocess.PIPE)
    assert peer.stdout is not None
    gateway_url = (await peer.stdout.readline()).decode().strip()
    try:
        await migrate_platform(db)
        tenants = []
        started = time.perf_counter()
        config = {"url": gateway_url, "params": {"to": "{to}", "text": "{text}", "ref": "{ref}"}, "timeout": 10}
        for n in range(tenant_count):
            tenant = await create_tenant(db, f"sms-{n:03d}", f"SMS ISP {n}")
            async with db.tenant(tenant) as scope:
                await ensure_packages(scope)
                await seed_customers(scope, customers, seed=n)
                await scope.connection.execute("INSERT INTO notify_rule (kind, offset_days) VALUES ('due_date', 0)")
                await scope.connection.execute(
                    "INSERT INTO notify_gateway (channel, kind, config) VALUES ('sms', 'http_sms', $1::jsonb)",
                    json.dumps(config),
                )
            await db.pool.execute("UPDATE platform.tenant SET sms_credit = 1000000 WHERE id = $1", tenant.id)
            await generate_bills(_ctx(db, tenant, date(2026, 11, 1)))
            tenants.append(tenant)
        print(f"provisioned {tenant_count} tenants × {customers} customers in {time.perf_counter() - started:.1f} s")

        queued: list[int] = []

        async def enqueue(tenant: TenantRef) -> None:
            queued.append((await due_date_reminders(_ctx(db, tenant, DUE)))["queued"])

        async def deliver(tenant: TenantRef) -> None:
            await send_outbox(_ctx(db, tenant, DUE))

        enqueue_s = await _each(tenants, parallel, enqueue)
        total = sum(queued)
        rate = total / enqueue_s
        print(f"enqueued   {total:8d} reminders in {enqueue_s:6.2f} s  ({rate:,.0f}/s; target: all in < 30 s)")
        cpu = time.process_time()
        with peak_rss() as peak:
            deliver_s = await _each(tenants, parallel, deliver)
        cpu = time.process_time() - cpu
    finally:
        peer.terminate()
        counts = (await peer.stdout.read()).decode().split()
        await peer.wait()
    sent = int(counts[0])
    print(f"delivered  {sent:8d} messages  in {deliver_s:6.2f} s  ({sent / deliver_s:,.0f}/s; target > 1,000/s)")
    print(f"sender CPU per message: {cpu / max(sent, 1) * 1e6:,.0f} µs (one process)")
    print(f"messages the gateway accepted vs queued: {sent} / {total} (each delivered once)")
    assert total > 0 and sent == total, f"the gateway got {sent} of {total} messages"
    size = f"{tenant_count} tenants, {total:,} reminders"
    report(Figure("due-date reminders enqueued", size, enqueue_s, "s", goal_below=30))
    report(Figure("SMS delivered (one process)", size, sent / deliver_s, "msg/s", goal_above=1000, peak_rss_mb=peak.mb))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tenants", type=int, default=100)
    # ~88 % of the demo customers are active and billed: 1,140 each gives about 100,000 reminders
    parser.add_argument("--customers", type=int, default=1140)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--client", choices=("own", "aiohttp"), default="own")
    arguments = parser.parse_args()
    if arguments.client == "aiohttp":
        import notify_http_clients

        import ispb_platform.notify.sender

        ispb_platform.notify.sender.HttpClient = notify_http_clients.AiohttpClient  # type: ignore[misc,assignment]
    asyncio.run(main(arguments.tenants, arguments.customers, arguments.parallel))
