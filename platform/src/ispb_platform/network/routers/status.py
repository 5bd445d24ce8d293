"""Checking a router's API: ``netsync.router_status`` (daily, entry point in network/jobs.py) and the Routers
page's "Test connection"."""

from dataclasses import dataclass
from datetime import UTC, datetime

from ispb_netsync.routeros import RouterAddress, RouterError, RouterSession
from ispb_platform.jobs.job import Counts
from ispb_platform.network.routers import queries
from ispb_platform.network.routers.explain import plain_words
from ispb_platform.secrets_box import SealError
from ispb_tenants import Database, TenantRef


@dataclass(frozen=True)
class RouterCheck:
    """A router's answer, or why there was none: ``advice`` in plain words for the operator, ``error`` the
    technical line (``RouterRefused: 10.0.0.1:8728: Connect call failed``) recorded on the router."""

    ok: bool
    identity: str = ""
    version: str = ""
    uptime: str = ""
    error: str = ""
    advice: str = ""


async def check_router(
    db: Database, tenant: TenantRef, secret_key: str, router_id: int, *, answer_within: float = 10.0
) -> RouterCheck:
    """Ask the router who it is and record the answer (or the error, in the router's own words).

    The router is read and the answer written in two short scopes: no transaction waits on the router.
    """
    async with db.tenant(tenant):
        router = await queries.get_router(router_id)
    if router is None:
        raise LookupError(router_id)
    try:
        async with RouterSession.open(
            queries.address_of(router, secret_key, tenant.id, router_id, timeout=answer_within)
        ) as session:
            identity = await session.identity()
            resource = await session.resource()
        check = RouterCheck(True, identity, resource.version, resource.uptime)
    except (RouterError, SealError, OSError) as problem:
        where = RouterAddress(router["host"], router["username"], "", router["api_port"], router["use_tls"]).where
        advice = plain_words(problem, where, router["username"])
        check = RouterCheck(False, error=f"{type(problem).__name__}: {problem}", advice=advice)
    async with db.tenant(tenant):
        await queries.record_check(
            router_id,
            ok=check.ok,
            identity=check.identity,
            version=check.version,
            error=check.error,
            checked_at=datetime.now(UTC),
        )
    return check


async def check_api_routers(db: Database, tenant: TenantRef, secret_key: str) -> Counts:
    """Check every API-managed router of ``tenant`` in turn (``netsync.router_status``)."""
    async with db.tenant(tenant):
        ids = await queries.api_router_ids()
    counts = {"up": 0, "down": 0}
    for router_id in ids:
        check = await check_router(db, tenant, secret_key, router_id)
        counts["up" if check.ok else "down"] += 1
    return counts
