"""PostgreSQL restarted while outbox senders deliver 600 messages to a real local HTTP SMS gateway: each message
reaches the gateway exactly once, and the work completes soon after PostgreSQL is back.

The test starts its own embedded PostgreSQL (never the shared server on :5432) and a gateway peer that answers
after `LATENCY_S`, as a provider's API does, so sending takes a few seconds. Two senders (``notify.send_outbox``,
as two workers run it) claim batches; once the gateway has received `RESTART_AFTER` messages the server is
stopped with ``pg_ctl stop -m fast`` (every connection dropped, as in a restart or a failover) and started again.

- A short outage (5 s): the senders keep what the gateway answered, write it when the database answers again,
  and claim the rest.
- An outage longer than the sender's lease (75 s > 60 s): the claims are older than the lease when the server
  comes back, and a third sender started then (a worker's next tick) must not take them over and send them
  again; the server's start time holds takeovers off for a lease (``notify/sender.py`` ``ABANDONED``).

Then every message was accepted by the gateway once (counted by its ``ref``, the outbox key), every row is
``sent`` with the gateway's message id, and the senders finished within `BOUND_S` of the server's start.
"""

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from ispb_notify import Channel, OutboundPolicy
from ispb_platform.jobs.job import JobContext
from ispb_platform.notify.gateways import gateway_binding
from ispb_platform.notify.jobs import send_outbox
from ispb_platform.notify.outbox import enqueue
from ispb_platform.secrets_box import seal
from ispb_tenants import Database, TenantRef, create_tenant
from own_postgres import OwnPostgres, fx_own_db, fx_own_postgres
from peers.sms_gateway import SmsGatewayPeer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]
__all__ = ("fx_own_db", "fx_own_postgres")  # the fixtures, used by name

SECRET = "o" * 40
PEERS = OutboundPolicy.parse("127.0.0.1")
MESSAGES = 600
LATENCY_S = 0.5
"""Each answer of the gateway: 600 messages take ~3 s for two senders of 50 parallel sends each."""
RESTART_AFTER = 60
BOUND_S = 60
"""From the server's start to every message sent: the senders retry the database every 5 s at most, then send
what is left (~3 s); the rest is slack for a loaded machine."""


async def _operator(db: Database, slug: str, gateway: SmsGatewayPeer) -> TenantRef:
    tenant = await create_tenant(db, slug, "Outbox Restart ISP")
    config = {
        "url": gateway.url,
        "method": "GET",
        "params": {"username": "ispb", "password": "{secret}", "to": "{to}", "text": "{text}", "ref": "{ref}"},
        "success_pattern": "Accepted",
        "message_id_pattern": "Accepted: (\\S+)",
        "timeout": 5.0,
    }
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO notify_gateway (channel, kind, config, secret_sealed)"
            " VALUES ('sms', 'http_sms', $1::jsonb, $2)",
            json.dumps(config),
            seal(SECRET, "gw-pass", gateway_binding(tenant.id, "sms")),
        )
        for n in range(MESSAGES):
            to, body = f"0171{n:07d}", f"Message {n}"
            await enqueue(
                scope.connection, key=f"restart:{n}", customer_id=None, channel=Channel.SMS, to=to, body=body, cause="t"
            )
        await scope.connection.execute("UPDATE platform.tenant SET sms_credit = 10000 WHERE id = $1", tenant.id)
    return tenant


async def _until_received(gateway: SmsGatewayPeer, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(gateway.messages) < count:
        assert time.monotonic() < deadline, f"the gateway received {len(gateway.messages)} of {count} messages"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("outage_s", [5, 75], ids=["short", "longer-than-the-lease"])
async def test_postgres_restarted_mid_delivery_every_message_reaches_the_gateway_once(
    own_postgres: OwnPostgres, own_db: Database, outage_s: int
):
    async with SmsGatewayPeer(credentials={"username": "ispb", "password": "gw-pass"}) as gateway:
        gateway.latency_s = LATENCY_S
        tenant = await _operator(own_db, f"outbox-restart-{outage_s}", gateway)
        now = datetime.now(UTC)
        ctx = JobContext(db=own_db, today=now.date(), now=now, tenant=tenant, secret_key=SECRET, outbound=PEERS)
        senders = [asyncio.create_task(send_outbox(ctx)) for _ in range(2)]

        await _until_received(gateway, RESTART_AFTER)
        await asyncio.to_thread(own_postgres.stop)
        await asyncio.sleep(outage_s)
        await asyncio.to_thread(own_postgres.start)
        started = time.monotonic()
        senders.append(asyncio.create_task(send_outbox(ctx)))  # a worker's next tick, once the server is back
        results = await asyncio.wait_for(asyncio.gather(*senders), BOUND_S)
        finished_s = time.monotonic() - started

        refs = Counter(m.request.query.get("ref") for m in gateway.attempts if m.request is not None)
        twice = {ref: n for ref, n in refs.items() if n > 1}
        assert not twice, f"{len(twice)} messages reached the gateway more than once: {sorted(twice)[:10]}"
        assert set(refs) == {f"restart:{n}" for n in range(MESSAGES)}
        assert len(gateway.messages) == MESSAGES
        async with own_db.tenant(tenant) as scope:
            rows = await scope.connection.fetch(
                "SELECT status, count(*) AS n, count(provider_message_id) AS with_id FROM outbox GROUP BY status"
            )
        assert [(r["status"], r["n"], r["with_id"]) for r in rows] == [("sent", MESSAGES, MESSAGES)]
        assert sum(result["sent"] for result in results) == MESSAGES
        print(f"outage {outage_s} s: all {MESSAGES} sent {finished_s:.1f} s after the server started")
