"""Tenant scopes: after-commit actions (``TenantScope.on_commit``) and the handler decorator (``@in_tenant_scope``)."""

import asyncio
import logging
import time
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.types import ASGIApp, Receive, Scope, Send

from ispb_platform.auth.roles import Principal, Role, SessionKind
from ispb_platform.jobs.queue import make_queue
from ispb_platform.runtime import Runtime
from ispb_platform.settings import parse_settings
from ispb_platform.web.scope import TenantScope, in_tenant_scope
from ispb_tenants import Database, TenantRef
from ispb_tenants.tables import Customer


async def _add(code: str) -> None:
    await Customer.insert(Customer(code=code, name=code, phone="+8801700000000"))


async def _committed_codes(db: Database, tenant: TenantRef) -> set[str]:
    """Read from another connection: only committed rows are visible there."""
    async with db.pool.acquire() as other:
        rows = await other.fetch(f'SELECT code FROM "{tenant.schema}".customer')
    return {row["code"] for row in rows}


async def test_after_commit_action_runs_once_the_rows_are_committed(db: Database, make_tenant):
    tenant = await make_tenant("oncommit")
    seen: list[set[str]] = []

    async def look() -> None:
        seen.append(await _committed_codes(db, tenant))

    async with db.tenant(tenant) as scope:
        await _add("C1")
        scope.on_commit(look)
        async with db.tenant(tenant) as inner:  # the same tenant joins the open transaction
            inner.on_commit(look)
        assert seen == []  # nothing runs before the outermost commit
    assert seen == [{"C1"}, {"C1"}]


async def test_after_commit_action_never_runs_after_a_rollback(db: Database, make_tenant):
    tenant = await make_tenant("oncommit")
    ran: list[str] = []

    async def note() -> None:
        ran.append("ran")

    async def failing_use_case() -> None:
        async with db.tenant(tenant) as scope:
            await _add("C1")
            scope.on_commit(note)
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    assert ran == [] and await _committed_codes(db, tenant) == set()


async def test_a_failing_after_commit_action_is_logged_and_the_rest_still_run(
    db: Database, make_tenant, caplog: pytest.LogCaptureFixture
):
    tenant = await make_tenant("oncommit")
    ran: list[str] = []

    async def fail() -> None:
        raise ConnectionError("queue down")

    async def note() -> None:
        ran.append("ran")

    with caplog.at_level(logging.ERROR, logger="ispb_tenants.database"):
        async with db.tenant(tenant) as scope:
            await _add("C1")
            scope.on_commit(fail)
            scope.on_commit(note)
    assert ran == ["ran"] and await _committed_codes(db, tenant) == {"C1"}
    assert "after-commit action" in caplog.text and "queue down" in caplog.text


def _signed_in_as(tenant: TenantRef | None, app: ASGIApp) -> ASGIApp:
    """What the session middleware does for a signed-in operator: put the principal on the request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        principal = Principal("s", SessionKind.STAFF, 1, Role.OPERATOR_ADMIN, "Owner", "owner@isp.test", tenant)
        if tenant is not None:
            scope.setdefault("state", {})["principal"] = principal
        await app(scope, receive, send)

    return middleware


@get("/customers/{customer_id:int}")
@in_tenant_scope
async def _show(db: TenantScope, customer_id: FromPath[int], q: FromQuery[str] = "") -> dict[str, Any]:
    """``db`` is not a query parameter; ``q`` still is."""
    row = await Customer.select(Customer.code).where(Customer.id == customer_id).first()
    if row is None:
        raise NotFoundException()
    return {"tenant": db.tenant.slug, "code": row["code"], "q": q}


@post("/customers/{code:str}", status_code=201)
@in_tenant_scope
async def _create(db: TenantScope, code: FromPath[str]) -> dict[str, str]:
    await _add(code)
    if code.startswith("bad"):
        raise NotFoundException("refused after the write")  # the write must roll back
    return {"tenant": db.tenant.slug}


def _client(db: Database, database_url: str, tenant: TenantRef | None) -> httpx.AsyncClient:
    settings = parse_settings({"ISPB_DATABASE_URL": database_url, "ISPB_SECRET_KEY": "k" * 40})
    app = Litestar([_show, _create])
    app.state.runtime = Runtime(settings, database_url, db, make_queue(None, database_url))
    transport = httpx.ASGITransport(app=_signed_in_as(tenant, app))
    return httpx.AsyncClient(transport=transport, base_url="http://isp.test")


async def test_a_scoped_handler_works_in_the_signed_in_operators_schema(db: Database, database_url: str, make_tenant):
    mine, other = await make_tenant("scoped"), await make_tenant("scoped")
    async with db.tenant(other):
        await _add("THEIRS")
    async with _client(db, database_url, mine) as client:
        assert (await client.post("/customers/MINE")).status_code == 201
        async with db.tenant(mine):
            mine_id = (await Customer.select(Customer.id).first())["id"]
        answer = await client.get(f"/customers/{mine_id}", params={"q": "x"})
        assert answer.json() == {"tenant": mine.slug, "code": "MINE", "q": "x"}
        async with db.tenant(other):
            their_id = (await Customer.select(Customer.id).first())["id"]
        if their_id != mine_id:  # another operator's id is simply not found here
            assert (await client.get(f"/customers/{their_id}")).status_code == 404
        assert (await client.get("/customers/1", params={"db": "x"})).status_code in (200, 404)


async def test_a_scoped_handler_that_raises_rolls_its_writes_back(db: Database, database_url: str, make_tenant):
    tenant = await make_tenant("scoped")
    async with _client(db, database_url, tenant) as client:
        assert (await client.post("/customers/bad-1")).status_code == 404
    assert await _committed_codes(db, tenant) == set()


async def test_a_scoped_handler_without_a_principal_asks_to_sign_in(db: Database, database_url: str):
    async with _client(db, database_url, None) as client:
        assert (await client.get("/customers/1")).status_code == 401


def test_a_handler_without_a_db_parameter_cannot_be_scoped():
    async def handler(customer_id: int) -> None:
        return None

    with pytest.raises(TypeError, match="no 'db' parameter"):
        in_tenant_scope(handler)


async def test_the_scope_connection_is_the_transaction(db: Database, make_tenant):
    """Raw SQL through ``db.connection`` and Piccolo queries share the one transaction."""
    tenant = await make_tenant("scoped")
    async with db.tenant(tenant) as scope:
        await _add("C1")
        assert await scope.connection.fetchval("SELECT count(*) FROM customer") == 1
        assert isinstance(scope.connection, asyncpg.Connection | asyncpg.pool.PoolConnectionProxy)


async def test_queries_gathered_in_one_scope_fail_and_the_scope_still_rolls_back_and_gives_its_connection_back(
    db: Database, database_url: str, make_tenant
):
    """Misuse: one scope is one connection, so two queries at once are refused ("another operation is in
    progress"). The scope must still end its transaction and return the connection, and closing the database
    must not wait for ever (it did: the connection stayed "idle in transaction", holding the row)."""
    tenant = await make_tenant("gather")
    own = await Database.connect(database_url, min_size=1, max_size=2)  # its close is under test
    pids: list[int] = []
    try:

        async def misuse() -> None:
            async with own.tenant(tenant) as scope:
                pids.append(scope.connection.get_server_pid())
                await _add("G1")
                await asyncio.gather(Customer.select(), Customer.select())

        with pytest.raises(asyncpg.InterfaceError, match="another operation is in progress"):
            await misuse()
        await asyncio.sleep(0.2)  # the query that did run finishes on the server
        states = await db.fetchval("SELECT array_agg(state) FROM pg_stat_activity WHERE pid = $1", pids[0])
        assert not any(state.startswith("idle in transaction") for state in states or []), states
        async with own.tenant(tenant) as scope:  # the row is gone: adding it again neither waits nor clashes
            await scope.connection.execute("SET LOCAL lock_timeout = '2s'")
            await _add("G1")
        assert await _committed_codes(db, tenant) == {"G1"}
    finally:
        started = time.monotonic()
        try:
            await asyncio.wait_for(own.close(), 15)
        finally:
            if own.engine.pool is not None:  # before the fix: close hung; end it so the session goes on
                own.engine.pool.terminate()
        assert time.monotonic() - started < 5


async def test_closing_the_database_does_not_wait_for_ever_for_a_connection_never_given_back(
    db: Database, database_url: str
):
    own = await Database.connect(database_url, min_size=1, max_size=2)
    own.close_timeout_s = 1.0
    kept = await own.pool.acquire()  # a task that never releases it
    await kept.execute("BEGIN")
    pid = kept.get_server_pid()
    started = time.monotonic()
    try:
        await asyncio.wait_for(own.close(), 15)  # before the fix: asyncpg's pool close waits for it for ever
    finally:
        if own.engine.pool is not None:
            own.engine.pool.terminate()
    assert time.monotonic() - started < 5
    await asyncio.sleep(0.2)
    assert await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) == 0
