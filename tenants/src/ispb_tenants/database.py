"""The shared connection pool and the scopes every query runs in.

One asyncpg pool (through Piccolo's engine) serves all tenants. Tenant work happens only inside
`Database.tenant`, which opens a transaction and runs ``SET LOCAL search_path`` once, first thing (DESIGN 2,
9, 10). ``SET LOCAL`` dies with the transaction, so a pooled connection never carries one tenant's path into
another's work; a query outside any scope finds no tenant tables and fails loudly instead of guessing.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from ispb_tenants.availability import database_unavailable
from ispb_tenants.errors import TenancyError, TenantContextError
from ispb_tenants.migrations import PLATFORM_SCHEMA, search_path_for
from ispb_tenants.tables import ALL_TABLES


@dataclass(frozen=True)
class TenantRef:
    """Which operator a request or job works for. Built from a ``platform.tenant`` row."""

    id: int
    slug: str
    schema: str
    name: str = ""
    timezone: str = "Asia/Dhaka"
    currency: str = "BDT"


log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class TenantScope:
    """An open tenant transaction: Piccolo queries run in it implicitly, raw SQL through ``connection``."""

    tenant: TenantRef
    connection: asyncpg.Connection
    _after_commit: list[AfterCommit] = field(default_factory=list, repr=False, compare=False)

    def on_commit(self, action: AfterCommit) -> None:
        """Run ``action`` once the outermost transaction has committed (never if it rolls back).

        For work that must see the committed rows and must not run for a rolled-back change: "run the router
        command now", "send the payment's message now". A failing action is logged, not raised: what it
        follows has already committed, and the schedule's next tick repeats the work.
        """
        self._after_commit.append(action)


async def _run_after_commit(actions: list[AfterCommit], tenant: TenantRef) -> None:
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception("an after-commit action for tenant %s failed; the next scheduled run repeats it", tenant.slug)


_current_tenant: ContextVar[TenantRef | None] = ContextVar("ispb_current_tenant", default=None)
_scope_actions: ContextVar[list[AfterCommit]] = ContextVar("ispb_scope_actions")


def current_tenant() -> TenantRef | None:
    """The tenant whose scope the calling task is in, if any."""
    return _current_tenant.get()


MIN_SERVER_VERSION = 130000  # PostgreSQL 13: gen_random_uuid, hashtextextended, DROP DATABASE ... FORCE


RELEASE_TIMEOUT_S = 5.0
"""How long giving a connection back to the pool (asyncpg resets it) may take before the connection is dropped."""


class _Transaction(PostgresTransaction):
    """Piccolo's transaction, ending with the connection back in the pool whatever happened in it.

    Piccolo's ``__aexit__`` rolls back (or commits) and only then releases the connection; when that statement
    fails, the connection is never released and stays "idle in transaction" holding its rows' locks, and the
    pool's close waits for it for ever. Seen with two queries gathered in one scope: the second is refused
    ("another operation is in progress"), and so is the rollback, while the first still runs. Here a
    connection whose transaction cannot end is terminated (the server rolls its transaction back), and the
    connection is always released and the context variable reset. The body's error, if any, is what
    propagates; a failed commit raises its own error.
    """

    async def __aenter__(self) -> PostgresTransaction:
        """Piccolo's, but a connection whose ``BEGIN`` fails (or is cancelled) goes back to the pool: Piccolo
        raises out of ``__aenter__`` holding it, ``__aexit__`` never runs, and the pool has one connection less
        for good. Seen after PostgreSQL restarts: every ``BEGIN`` sent on a connection the server had dropped
        leaked one, pages queued for the ones left and closing the pool waited for them (issue 19)."""
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()  # type: ignore[no-untyped-call]
        try:
            self.transaction = self.connection.transaction()
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            self._drop()
            await self._release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self._end(self.rollback, raise_error=False)
            elif not self._committed and not self._rolled_back:
                await self._end(self.commit, raise_error=True)
        finally:
            await self._release()
            self.engine.current_transaction.reset(self.context)
        return exception is None

    async def _end(self, statement: Callable[[], Awaitable[None]], *, raise_error: bool) -> None:
        try:
            await statement()
        except BaseException as problem:
            away = database_unavailable(problem)  # a restart: one line, as the 503 it becomes; else the traceback
            log.warning(
                "a transaction could not end (%s: %s: %s); its connection is dropped",
                statement.__name__,
                type(problem).__name__,
                problem,
                exc_info=not away,
            )
            self._drop()
            if raise_error:
                raise

    def _drop(self) -> None:
        """Terminate the connection (the server rolls back what it had open). One the server closed is already
        back in the pool, its proxy detached: nothing left to do."""
        with contextlib.suppress(asyncpg.InterfaceError):
            self.connection.terminate()

    async def _release(self) -> None:
        pool = self.engine.pool
        if pool is None:
            await self.connection.close(timeout=RELEASE_TIMEOUT_S)
            return
        try:
            await pool.release(self.connection, timeout=RELEASE_TIMEOUT_S)
        except BaseException:  # asyncpg has terminated the connection; the pool opens another when needed
            log.warning("a connection could not be returned to the pool; it was dropped", exc_info=True)


class _Engine(PostgresEngine):
    """Piccolo's engine without its constructor-time probes: they open a throwaway connection in a thread
    (blocking the event loop) and only warn when it fails. `Database.connect` checks the server on the pool.
    Its transactions always give their connection back (`_Transaction`)."""

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _Transaction(engine=self, allow_nested=allow_nested)


def _bind(engine: Any) -> None:
    for table in ALL_TABLES:
        table._meta.db = engine


class Database:
    """Owns the pool. Create with `Database.connect`, close with `Database.close`."""

    def __init__(self, engine: PostgresEngine, previous: Any = None) -> None:
        self.engine = engine
        self._previous = previous  # the engine the tables were bound to before this one

    @classmethod
    async def connect(cls, url: str, *, min_size: int = 2, max_size: int = 10) -> "Database":
        """Open the pool and bind every table class to it (Piccolo binds tables to one engine)."""
        engine = _Engine(config={"dsn": url})
        await engine.start_connection_pool(min_size=min_size, max_size=max_size)
        assert engine.pool is not None
        version = int(await engine.pool.fetchval("SHOW server_version_num"))
        if version < MIN_SERVER_VERSION:
            await engine.close_connection_pool()
            raise TenancyError(f"PostgreSQL 13 or newer is required; the server runs {version // 10000}")
        previous = ALL_TABLES[0]._meta._db  # not .db: that would look for a piccolo_conf module when unbound
        _bind(engine)
        return cls(engine, previous)

    close_timeout_s: float = 10.0
    """How long `close` waits for connections in use to come back before it terminates them."""

    async def close(self) -> None:
        """Close the pool; tables bound to it go back to the engine they had before (a second ``Database`` in
        one process, e.g. a command run in-process by a test, must not leave the first one's queries orphaned).

        asyncpg's ``Pool.close`` waits, without a bound, for every acquired connection to be released; a
        connection a task never gives back would keep the process from ending. After ``close_timeout_s`` the
        pool is terminated: the server rolls back whatever those connections had not committed.
        """
        if ALL_TABLES[0]._meta._db is self.engine and self._previous is not None:
            _bind(self._previous)
        pool = self.engine.pool
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), self.close_timeout_s)
        except TimeoutError:
            log.warning("connections still in use after %.0f s; the pool is terminated", self.close_timeout_s)
            pool.terminate()
        finally:
            self.engine.pool = None

    @property
    def dsn(self) -> str:
        """The URL this pool connects with, for tools that open their own connections (pg_dump, pg_restore)."""
        return str(self.engine.config["dsn"])

    @property
    def pool(self) -> asyncpg.Pool:
        if self.engine.pool is None:
            raise RuntimeError("the database pool is closed")
        return self.engine.pool

    @asynccontextmanager
    async def tenant(self, tenant: TenantRef) -> AsyncIterator[TenantScope]:
        """Run the body in one transaction inside ``tenant``'s schema.

        Re-entering the same tenant joins the open transaction; entering another tenant, or starting a tenant
        scope inside a platform transaction, raises `TenantContextError`: work for two operators never shares
        a transaction.
        """
        active = _current_tenant.get()
        if active is not None:
            if active.schema != tenant.schema:
                raise TenantContextError(
                    f"already working for tenant {active.slug!r}; refusing to open {tenant.slug!r} inside it"
                )
            async with self.engine.transaction() as outer:
                yield TenantScope(tenant, outer.connection, _scope_actions.get())
            return
        if self.engine.current_transaction.get() is not None:
            raise TenantContextError("a tenant scope cannot start inside a platform transaction")
        actions: list[AfterCommit] = []
        async with self.engine.transaction(allow_nested=False) as transaction:
            await transaction.connection.execute(f"SET LOCAL search_path TO {search_path_for(tenant.schema)}")
            token = _current_tenant.set(tenant)
            actions_token = _scope_actions.set(actions)
            try:
                yield TenantScope(tenant, transaction.connection, actions)
            finally:
                _current_tenant.reset(token)
                _scope_actions.reset(actions_token)
        await _run_after_commit(actions, tenant)

    @asynccontextmanager
    async def platform(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction on platform tables only: tenant tables are not on its search_path."""
        if _current_tenant.get() is not None:
            raise TenantContextError("a platform transaction cannot start inside a tenant scope")
        async with self.engine.transaction(allow_nested=False) as transaction:
            await transaction.connection.execute(f"SET LOCAL search_path TO {search_path_for(PLATFORM_SCHEMA)}")
            yield transaction.connection

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """One value from a platform-level query outside any scope (health checks, counts)."""
        async with self.pool.acquire() as connection:
            return await connection.fetchval(sql, *args)
