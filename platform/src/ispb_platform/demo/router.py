"""The demo's router: a simulated MikroTik (``ispb_netsync.routeros.simulator``) on loopback.

``ispb demo`` has no real router to talk to, so it runs the same RouterOS API peer the tests use, inside the
demo process. Each demo operator gets a router row pointing at it and its first customers (the ones with
portal logins) are wired to it with PPPoE secrets and live sessions, so suspensions, reactivations and
package changes really go over the RouterOS API and their results show on the customer and router pages.
The simulator keeps its state in memory: every start begins with the customers online again. While the demo
serves, ``traffic.py`` makes up their traffic (router interfaces and accounting), so the graphs move.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from litestar import Litestar

from ispb_netsync.routeros.rates import rate_limit
from ispb_netsync.routeros.simulator import RouterOSPeer
from ispb_platform.demo import traffic
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Database, TenantRef, get_tenant

ROUTER_NAME = "Demo core (simulated MikroTik)"
ROUTER_USER, ROUTER_PASSWORD = "ispb", "demo-router-pass"
WIRED_CUSTOMERS = 20


async def prepare_router(db: Database, tenant: TenantRef, secret_key: str) -> None:
    """The router row and the wiring of the first customers (idempotent; the port is set at start)."""
    async with db.tenant(tenant) as scope:
        router_id = await scope.connection.fetchval("SELECT id FROM router WHERE name = $1", ROUTER_NAME)
        if router_id is None:  # its id first: the password is sealed for the row (secrets_box.Binding)
            router_id = await scope.connection.fetchval("SELECT nextval(pg_get_serial_sequence('router', 'id'))")
            await scope.connection.execute(
                "INSERT INTO router (id, name, host, api_port, username, password_sealed) VALUES ($1, $2,"
                " '127.0.0.1', 8728, $3, $4)",
                router_id,
                ROUTER_NAME,
                ROUTER_USER,
                seal(secret_key, ROUTER_PASSWORD, Binding(tenant.id, Purpose.ROUTER_API_PASSWORD, router_id)),
            )
        for customer in await scope.connection.fetch(
            "SELECT id, code FROM customer WHERE router_id IS NULL AND id <= $1 ORDER BY id", WIRED_CUSTOMERS
        ):
            await scope.connection.execute(
                "UPDATE customer SET router_id = $2, pppoe_username = coalesce(pppoe_username, lower(code)),"
                " pppoe_password_sealed = $3 WHERE id = $1",
                customer["id"],
                router_id,
                seal(
                    secret_key,
                    f"dial-{customer['code'].lower()}",
                    Binding(tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, customer["id"]),
                ),
            )


def demo_routers(
    slugs: list[str], ports: Sequence[int] = ()
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan hook for ``create_app``: one simulated router per demo operator while the demo serves
    (one each, as customer ids repeat across operators and a router's PPP secrets are unique by name), on
    ``ports`` when given (ports the outbound policy allows, for the status checks), else any free port. The
    peers are kept in ``app.state.demo_router_peers`` by slug (the demo's stop/start page)."""

    @asynccontextmanager
    async def simulated(app: Litestar) -> AsyncIterator[None]:
        db: Database = app.state.runtime.db
        peers: dict[str, RouterOSPeer] = {}
        app.state.demo_router_peers = peers
        async with AsyncExitStack() as stack:
            for n, slug in enumerate(slugs, start=1):
                peer = RouterOSPeer(username=ROUTER_USER, password=ROUTER_PASSWORD, identity=f"ISPB demo core {n}")
                if len(ports) >= n:
                    peer.port = ports[n - 1]
                peers[slug] = await stack.enter_async_context(peer)
                tenant = await get_tenant(db, slug)
                async with db.tenant(tenant) as scope:
                    await scope.connection.execute(
                        "UPDATE router SET api_port = $2, status = 'unknown', last_error = '' WHERE name = $1",
                        ROUTER_NAME,
                        peer.port,
                    )
                    online = await scope.connection.fetch(
                        "SELECT c.id, c.pppoe_username, p.download_kbps, p.upload_kbps FROM customer c"
                        " JOIN router r ON r.id = c.router_id LEFT JOIN package p ON p.id = c.package_id"
                        " WHERE r.name = $1 AND c.status = 'active' AND c.pppoe_username IS NOT NULL",
                        ROUTER_NAME,
                    )
                for customer in online:  # everyone wired and active is online, at their package's speed
                    speed = (
                        rate_limit(customer["download_kbps"], customer["upload_kbps"])
                        if customer["download_kbps"]
                        else ""
                    )
                    peer.connect_ppp(customer["pppoe_username"], f"10.{20 + n}.0.{customer['id']}", rate_limit=speed)
                task = asyncio.create_task(traffic.simulate(db, tenant, peer, ROUTER_NAME, n), name=f"demo-{slug}")
                stack.callback(task.cancel)
            yield

    return simulated
