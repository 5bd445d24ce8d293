"""The outbox sender's lease (``notify/sender.py``): renewed while its sender is alive, given back untried,
and never renewed or given back for a claim someone else holds now."""

import asyncio
from datetime import timedelta

import pytest

from ispb_notify import Channel
from ispb_platform.notify import sender
from ispb_platform.notify.outbox import enqueue
from ispb_tenants import Database


async def test_a_claim_is_renewed_while_held_and_given_back_untried(db: Database, make_tenant, monkeypatch):
    tenant = await make_tenant("lease")
    async with db.tenant(tenant) as scope:
        for n in range(3):
            await enqueue(
                scope.connection,
                key=f"lease:{n}",
                customer_id=None,
                channel=Channel.SMS,
                to=f"0171100000{n}",
                body="x",
                cause="t",
            )
    rows = await sender._claim(db, tenant)
    assert len(rows) == 3 and all(r["attempts"] == 1 for r in rows)
    claim = sender._Claim([r["id"] for r in rows], rows[0]["claimed_at"], 0.0)
    assert not claim.fresh()  # confirmed "at boot": long ago by this clock

    monkeypatch.setattr(sender, "RENEW_EVERY_S", 0.05)
    keeper = asyncio.create_task(claim.keep(db, tenant))
    await asyncio.sleep(0.5)
    claim.stop.set()
    await keeper
    assert claim.fresh() and claim.token > rows[0]["claimed_at"]
    async with db.tenant(tenant) as scope:
        held = await scope.connection.fetch("SELECT claimed_at FROM outbox WHERE status = 'sending'")
    assert [r["claimed_at"] for r in held] == [claim.token] * 3

    # another sender took one over (its claim time differs): neither renewed nor given back by this one
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "UPDATE outbox SET claimed_at = claimed_at + interval '1 second' WHERE key = 'lease:0'"
        )
    await sender._release(db, tenant, claim.ids, claim.token)
    async with db.tenant(tenant) as scope:
        after = {r["key"]: r for r in await scope.connection.fetch("SELECT key, status, attempts FROM outbox")}
    assert (after["lease:0"]["status"], after["lease:0"]["attempts"]) == ("sending", 1)
    assert {(after[k]["status"], after[k]["attempts"]) for k in ("lease:1", "lease:2")} == {("queued", 0)}


async def test_an_old_claim_is_not_taken_over_in_the_first_lease_after_the_server_started(
    db: Database, make_tenant, monkeypatch: pytest.MonkeyPatch
):
    tenant = await make_tenant("lease")
    async with db.tenant(tenant) as scope:
        await enqueue(
            scope.connection,
            key="lease:old",
            customer_id=None,
            channel=Channel.SMS,
            to="01711000009",
            body="x",
            cause="t",
        )
        await scope.connection.execute("UPDATE outbox SET status = 'sending', claimed_at = now() - interval '10 years'")
        up_for = await scope.connection.fetchval("SELECT now() - pg_postmaster_start_time()")
        grace = await scope.connection.fetchval(
            f"SELECT count(*) FROM outbox WHERE {sender.ABANDONED.format(lease='$1::interval')}",
            up_for + timedelta(hours=1),
        )
    # a claim far older than the lease, but the server has been up for less than it: not abandoned yet
    assert grace == 0
    if up_for <= sender.LEASE:  # a server started moments ago (a fresh CI database): a lease it has outlived
        monkeypatch.setattr(sender, "LEASE", up_for / 2)
    assert len(await sender._claim(db, tenant)) == 1  # a server up for a lease: the dead sender's claim is taken
