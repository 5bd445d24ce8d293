"""The demo's monitoring: status checks with 90 days of made-up history, the public status pages, a Zabbix.

Each demo operator watches its simulated router (a RouterOS API login: it turns red within a minute or two of
the router stopping and green again after it returns, with the incident listed), its customer portal and the
billing web server (HTTP against the demo itself), publishes ``/status/<slug>``, and is connected to a Zabbix
(``ispb_monitor.zabbix_simulator``, inside the demo process) whose hosts and problems fill the Monitoring
dashboard. The history before the demo started is made up (``monitored_since`` 90 days back, a few old
incidents and a maintenance window), so the uptime bars show what they look like after months.

The visitor stops and starts the simulated router at ``/demo/router/`` (operator admins, their own router).
The routers and the Zabbix listen on ports chosen before the demo starts, which the demo's outbound policy
allows (and only those): status checks obey the policy like everything else.
"""

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from ispb_monitor.zabbix import Severity
from ispb_monitor.zabbix_simulator import ZabbixSimulator
from ispb_netsync.routeros.simulator import RouterOSPeer
from ispb_notify import OutboundPolicy
from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import OPERATOR_ADMINS
from ispb_platform.monitoring import queries
from ispb_platform.monitoring.zabbix_sync import sync, zabbix_binding
from ispb_platform.secrets_box import seal
from ispb_platform.web.flash import flash
from ispb_platform.web.forms import see_other
from ispb_tenants import Database, TenantRef, get_tenant

ZABBIX_TOKEN = "demo-zabbix-api-token"  # noqa: S105 (the demo simulator's, printed nowhere secret)
ROUTER_CHECK = "Core router API"
PATH = "/demo/router"


@dataclass(frozen=True)
class DemoPorts:
    """Loopback ports chosen before the demo starts: one simulated router per operator and the Zabbix."""

    routers: tuple[int, ...]
    zabbix: int

    @classmethod
    def free(cls, routers: int) -> "DemoPorts":
        ports = _free_ports(routers + 1)
        return cls(tuple(ports[:routers]), ports[-1])

    def allow(self, policy: OutboundPolicy) -> OutboundPolicy:
        for port in (*self.routers, self.zabbix):
            policy = policy.allowing("127.0.0.1", port)
        return policy

    @property
    def zabbix_url(self) -> str:
        return f"http://127.0.0.1:{self.zabbix}/api_jsonrpc.php"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _checks(slug: str, web: str) -> list[tuple[str, str, str, str, dict[str, Any], int]]:
    """(name, public name, kind, target, options, confirm count) of a demo operator's checks."""
    portal = f"{web}/portal/{slug}/login"
    return [
        (ROUTER_CHECK, "Internet (core network)", "routeros", "router", {}, 1),
        ("Customer portal (web)", "Customer portal", "http", portal, {"body_contains": "Sign in"}, 2),
        ("Billing server health", "Online bill payment", "http", f"{web}/healthz", {}, 2),
    ]


async def prepare_monitoring(
    db: Database, tenant: TenantRef, *, secret_key: str, web_url: str, zabbix_url: str, router_name: str
) -> None:
    """Checks, made-up history, the status page and the Zabbix connection (idempotent: kept when present)."""
    now = datetime.now(UTC)
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        router_id = await connection.fetchval("SELECT id FROM router WHERE name = $1", router_name)
        if await connection.fetchval("SELECT count(*) FROM status_check") == 0:
            for name, public, kind, target, options, confirm in _checks(tenant.slug, web_url.rstrip("/")):
                check_id = await queries.next_check_id(connection)
                bound = router_id if kind == "routeros" else None
                fields = queries.CheckFields(
                    name=name, public_name=public, kind=kind, target=f"router {bound}" if bound else target,
                    port=None, options=options, router_id=bound, timeout_s=5, confirm_count=confirm,
                )  # fmt: skip
                await queries.save_check(connection, check_id, fields, None, new=True)
            await _history(connection, now)
            await queries.save_page_settings(connection, True, f"{tenant.name} network status")
        for name, _, kind, target, _, _ in _checks(tenant.slug, web_url.rstrip("/")):
            if kind == "http":  # the demo may serve on another port than last time
                await connection.execute("UPDATE status_check SET target = $2 WHERE name = $1", name, target)
        settings = await queries.settings(connection)
        if not settings.get("zabbix_url"):
            await queries.save_zabbix_settings(
                connection, zabbix_url, seal(secret_key, ZABBIX_TOKEN, zabbix_binding(tenant.id))
            )
        else:  # the simulator's port changes with every start
            await connection.execute("UPDATE monitor_settings SET zabbix_url = $1", zabbix_url)


async def _history(connection: Any, now: datetime) -> None:
    """90 days as if watched all along: two short outages of the portal, one of the router, a maintenance night."""
    await connection.execute("UPDATE status_check SET monitored_since = $1", now - timedelta(days=91))
    ids = {r["name"]: r["id"] for r in await connection.fetch("SELECT id, name FROM status_check")}
    past = [
        (ROUTER_CHECK, 61, 130, "the router did not answer (power cut at the POP)"),
        ("Customer portal (web)", 23, 35, "answered 502 Bad Gateway"),
        ("Customer portal (web)", 4, 9, "did not answer within 5 s"),
        ("Billing server health", 47, 18, "answered 503 Service Unavailable"),
    ]
    for name, days_ago, minutes, cause in past:
        start = now - timedelta(days=days_ago, hours=3)
        await connection.execute(
            "INSERT INTO status_incident (check_id, started_at, ended_at, cause) VALUES ($1, $2, $3, $4)",
            ids[name], start, start + timedelta(minutes=minutes), cause,
        )  # fmt: skip
    night = (now - timedelta(days=12)).replace(hour=20, minute=0, second=0, microsecond=0)
    await queries.add_maintenance(connection, None, night, night + timedelta(hours=2), "Core switch upgrade")


def demo_zabbix() -> ZabbixSimulator:
    """A Zabbix 7.0 with an ISP's hosts and a few problems of every severity."""
    zabbix = ZabbixSimulator(version="7.0.5", token=ZABBIX_TOKEN)
    core = zabbix.add_host("core-sw-mirpur", "Core switch Mirpur")
    olt = zabbix.add_host("olt-uttara-1", "OLT Uttara 1")
    upstream = zabbix.add_host("bdix-edge", "BDIX edge router")
    zabbix.add_host("radius-1", "RADIUS server 1")
    pop = zabbix.add_host("pop-banani", "POP Banani", available=False)
    zabbix.raise_problem(pop, "POP Banani is unreachable by ICMP ping", Severity.HIGH, age_s=25 * 60)
    zabbix.raise_problem(olt, "PON port 0/3 has 4 ONUs offline", Severity.AVERAGE, age_s=3 * 3600)
    zabbix.raise_problem(upstream, "Upstream link utilisation above 90% for 15m", Severity.WARNING, age_s=40 * 60)
    zabbix.raise_problem(core, "Fan 2 speed low", Severity.INFORMATION, age_s=2 * 86400, acknowledged=True)
    zabbix.raise_problem(olt, "OLT Uttara 1 temperature above 70°C", Severity.DISASTER, age_s=8 * 60)
    return zabbix


def demo_monitoring(
    slugs: list[str], ports: DemoPorts, *, secret_key: str, outbound: OutboundPolicy
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan hook: the Zabbix simulator while the demo serves, and a first sync so the dashboard shows it."""

    @asynccontextmanager
    async def serving(app: Litestar) -> AsyncIterator[None]:
        db: Database = app.state.runtime.db
        async with demo_zabbix().serving(port=ports.zabbix):
            for slug in slugs:
                await sync(db, await get_tenant(db, slug), secret_key=secret_key, outbound=outbound)
            yield

    return serving


# --- stopping and starting the simulated router (operator admins) ---------------------------------------------


def _peer(request: Request[Any, Any, Any]) -> tuple[RouterOSPeer, TenantRef]:
    principal = request.scope["state"]["principal"]
    tenant = principal.require_tenant()
    peers: dict[str, RouterOSPeer] = getattr(request.app.state, "demo_router_peers", {})
    peer = peers.get(tenant.slug)
    if peer is None:
        raise NotFoundException()
    return peer, tenant


def _listening(peer: RouterOSPeer) -> bool:
    return peer._server is not None


@get(f"{PATH}/", opt=allow(OPERATOR_ADMINS))
async def router_page(request: Request[Any, Any, Any]) -> Template:
    peer, _ = _peer(request)
    return Template("demo/router.html", context={"running": _listening(peer), "port": peer.port})


@post([f"{PATH}/stop", f"{PATH}/start"], opt=allow(OPERATOR_ADMINS))
async def switch_router(request: Request[Any, Any, Any]) -> Response[Any]:
    peer, _ = _peer(request)
    if request.url.path.endswith("/stop"):
        await peer.stop_listening()
        flash(request, "The simulated router stopped: its status check turns red within a minute or two")
    elif not _listening(peer):
        await peer.__aenter__()  # listens again on the same port
        flash(request, "The simulated router is back: its status check turns green within a minute or two")
    return see_other(request, f"{PATH}/")


ROUTES: list[ControllerRouterHandler] = [router_page, switch_router]
