"""No row ever crosses tenants: concurrent interleaved work on one shared pool, and addressing by id."""

import asyncio
import random
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from ispb_platform.jobs.queue import make_queue
from ispb_platform.runtime import Runtime
from ispb_platform.settings import parse_settings
from ispb_platform.web.tenancy import provide_portal_tenant
from ispb_tenants import Database, TenantContextError, TenantRef
from ispb_tenants.tables import Customer

TENANTS = 5
TASKS_PER_TENANT = 4
OPS_PER_TASK = 30  # 5 x 4 x 30 = 600 interleaved operations


async def _add_customer(tenant: TenantRef, code: str) -> None:
    await Customer.insert(Customer(code=code, name=tenant.slug, phone="+8801700000000"))


async def _worker(db: Database, tenant: TenantRef, task: int, rng: random.Random) -> int:
    """Mixed reads and writes, yielding inside transactions so tasks of other tenants interleave."""
    written = 0
    for op in range(OPS_PER_TASK):
        async with db.tenant(tenant):
            await asyncio.sleep(rng.random() / 1000)
            kind = rng.choice(("insert", "select", "update", "count"))
            if kind == "insert":
                await _add_customer(tenant, f"{tenant.slug}-{task}-{op}")
                written += 1
            elif kind == "select":
                rows = await Customer.select(Customer.name, Customer.code)
                assert {row["name"] for row in rows} <= {tenant.slug}, "saw another tenant's customer"
                assert all(row["code"].startswith(tenant.slug) for row in rows)
            elif kind == "update":
                await Customer.update({Customer.area: tenant.slug}).where(Customer.name == tenant.slug)
            else:
                foreign = await Customer.count().where(Customer.name != tenant.slug)
                assert foreign == 0
            await asyncio.sleep(0)
    return written


async def test_concurrent_interleaved_tenants_never_see_or_write_each_others_rows(db: Database, make_tenant):
    tenants = [await make_tenant("iso") for _ in range(TENANTS)]
    rng = random.Random(2026)
    plan = [(tenant, task) for task in range(TASKS_PER_TENANT) for tenant in tenants]
    rng.shuffle(plan)
    written = await asyncio.gather(*(_worker(db, tenant, task, random.Random(rng.random())) for tenant, task in plan))
    expected: dict[str, int] = {}
    for (tenant, _), count in zip(plan, written, strict=True):
        expected[tenant.slug] = expected.get(tenant.slug, 0) + count
    async with db.pool.acquire() as conn:  # check every schema directly, by qualified name
        for tenant in tenants:
            rows = await conn.fetch(f'SELECT name, area, code FROM "{tenant.schema}".customer')
            assert {r["name"] for r in rows} <= {tenant.slug}
            assert {r["area"] for r in rows} <= {tenant.slug, ""}
            assert all(r["code"].startswith(tenant.slug + "-") for r in rows)
            assert len(rows) == expected[tenant.slug]
    assert sum(expected.values()) > 0


async def test_tenant_cannot_address_another_tenants_row_by_id(db: Database, make_tenant):
    a, b = await make_tenant("ida"), await make_tenant("idb")
    async with db.tenant(b):
        for n in range(3):
            await _add_customer(b, f"b{n}")
        b_row = await Customer.select(Customer.id).where(Customer.code == "b2").first()
    async with db.tenant(a):
        await _add_customer(a, "a0")
        assert await Customer.select().where(Customer.id == b_row["id"]) == []
        await Customer.update({Customer.name: "hijacked"}).where(Customer.id == b_row["id"])
        await Customer.delete().where(Customer.id == b_row["id"])
    async with db.tenant(b):
        row = await Customer.select(Customer.name).where(Customer.id == b_row["id"]).first()
    assert row == {"name": b.slug}


async def test_query_outside_any_tenant_scope_fails_instead_of_guessing(db: Database):
    with pytest.raises(Exception, match='relation "customer" does not exist'):
        await Customer.select()


async def test_nested_scope_for_another_tenant_is_refused(db: Database, make_tenant):
    a, b = await make_tenant("nsa"), await make_tenant("nsb")
    async with db.tenant(a):
        with pytest.raises(TenantContextError):
            async with db.tenant(b):
                pass
        async with db.tenant(a) as inner:  # same tenant: joins the open transaction
            assert inner.tenant == a


async def test_savepoint_rollback_keeps_tenant_search_path(db: Database, make_tenant):
    a = await make_tenant("svp")
    async with db.tenant(a) as scope:
        transaction = db.engine.current_transaction.get()
        savepoint = await transaction.savepoint()
        await _add_customer(a, "inside-savepoint")
        await savepoint.rollback_to()
        path = await scope.connection.fetchval("SHOW search_path")
        assert path.startswith(a.schema)
        assert await Customer.count() == 0


async def test_exception_in_scope_rolls_back_and_the_connection_is_clean(db: Database, make_tenant):
    a = await make_tenant("exc")

    async def fail_after_write() -> None:
        async with db.tenant(a):
            await _add_customer(a, "lost")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_after_write()
    async with db.tenant(a):
        assert await Customer.count() == 0
    # every pooled connection is back on the default path: nothing of the tenant's SET LOCAL survived
    async with db.pool.acquire() as conn:
        assert a.schema not in await conn.fetchval("SHOW search_path")


@get(
    "/portal/{operator_slug:str}/customers/{customer_id:int}",
    dependencies={
        "tenant": Provide(provide_portal_tenant),
        "other": Provide(lambda: "a sibling dependency", sync_to_thread=False),
    },
)
async def _portal_customer(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[TenantRef],
    other: NamedDependency[str],
    customer_id: FromPath[int],
) -> dict[str, Any]:
    async with request.app.state.runtime.db.tenant(tenant) as scope:
        row = await Customer.select(Customer.code, Customer.name).where(Customer.id == customer_id).first()
    return {"tenant": scope.tenant.slug, "customer": row}


async def test_http_requests_for_many_tenants_stay_in_their_schema(db: Database, database_url: str, make_tenant):
    tenants = [await make_tenant("web") for _ in range(TENANTS)]
    for tenant in tenants:
        async with db.tenant(tenant):
            for n in range(3):
                await _add_customer(tenant, f"{tenant.slug}-{n}")
    settings = parse_settings({"ISPB_DATABASE_URL": database_url, "ISPB_SECRET_KEY": "k" * 40})
    runtime = Runtime(settings, database_url, db, make_queue(None, database_url))
    app = Litestar([_portal_customer])
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)  # same event loop as the shared pool
    async with httpx.AsyncClient(transport=transport, base_url="http://isp.test") as client:
        requests = [(t, i) for t in tenants for i in (1, 2, 3)] * 12  # 180 concurrent requests
        random.Random(7).shuffle(requests)
        answers = await asyncio.gather(*(client.get(f"/portal/{t.slug}/customers/{i}") for t, i in requests))
        for (tenant, _), answer in zip(requests, answers, strict=True):
            assert answer.status_code == 200
            body = answer.json()
            assert body["tenant"] == tenant.slug
            assert body["customer"]["name"] == tenant.slug
        # an id that exists only in another tenant is not found here, and unknown operators are a 404
        assert (await client.get(f"/portal/{tenants[0].slug}/customers/999")).json()["customer"] is None
        assert (await client.get("/portal/no-such-isp/customers/1")).status_code == 404
        assert (await client.get("/portal/Bad%20Slug/customers/1")).status_code == 404


async def test_a_second_database_in_one_process_gives_the_tables_back_when_closed(
    db: Database, database_url: str, make_tenant
):
    """Piccolo binds table classes to one engine; a command run in-process opens and closes its own."""
    tenant = await make_tenant("rebind")
    other = await Database.connect(database_url, min_size=1, max_size=2)
    await other.close()
    async with db.tenant(tenant):
        await _add_customer(tenant, "after-close")
        assert await Customer.count() == 1
