"""The demo's two simulated OLTs: started with the demo, their ONUs appear, three are mapped to demo customers,
the portal customer's is weak; without snmpsim the demo says why on the OLTs' pages."""

import asyncio
from types import SimpleNamespace

from factories import TEST_SECRET_KEY, make_customer
from ispb_platform.demo import olts as demo
from ispb_platform.network.olts import queries
from ispb_tenants import Database


def _app(db: Database) -> SimpleNamespace:
    return SimpleNamespace(
        state=SimpleNamespace(runtime=SimpleNamespace(db=db, settings=SimpleNamespace(secret_key=TEST_SECRET_KEY)))
    )


async def test_demo_olts_fill_the_onu_list_with_three_mapped_and_one_weak(db: Database, make_tenant):
    tenant = await make_tenant("demoolt")
    async with db.tenant(tenant) as scope:
        customers = {code: await make_customer(scope, code=code) for code in ("C000001", "C000002", "C000003")}
    await demo.prepare_olts(db, tenant, TEST_SECRET_KEY)
    await demo.prepare_olts(db, tenant, TEST_SECRET_KEY)  # idempotent
    async with demo.demo_olts([tenant.slug])(_app(db)):
        for _ in range(100):  # the first sync runs in the background
            async with db.tenant(tenant) as scope:
                if await scope.connection.fetchval("SELECT count(*) FROM olt WHERE status = 'up'") == 2:
                    break
            await asyncio.sleep(0.2)
    async with db.tenant(tenant) as scope:
        olts = await queries.all_olts()
        onus = await queries.list_onus()
    assert [(o["status"], o["onu_count"]) for o in olts] == [("up", 16), ("up", 16)]
    mapped = {o["customer_id"]: o for o in onus if o["customer_id"]}
    assert set(mapped) == set(customers.values())
    assert mapped[customers["C000001"]]["problem"] == "weak"
    assert [o["problem"] for o in onus[:2]] == ["down", "weak"]  # the LOS ONU, then C000001's


async def test_without_snmpsim_the_olts_say_why(db: Database, make_tenant, monkeypatch):
    tenant = await make_tenant("demoolt-none")
    await demo.prepare_olts(db, tenant, TEST_SECRET_KEY)
    monkeypatch.setattr(demo, "available", lambda: False)
    async with demo.demo_olts([tenant.slug])(_app(db)):
        pass
    async with db.tenant(tenant):
        olts = await queries.all_olts()
    assert {(o["status"], o["last_error"]) for o in olts} == {("down", demo.NOT_RUNNING)}
