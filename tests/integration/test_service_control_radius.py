"""Suspension and reactivation for a RADIUS-managed router, against the real FreeRADIUS and a NAS listener.

The platform writes the customer's rows; FreeRADIUS (with the generated configuration) answers the router's
Access-Requests from them; the router's live session is ended with a Disconnect-Request (RFC 5176) that our
NAS listener checks. Overdue → suspended profile; payment → the package's rate limit again.
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

import pytest

from factories import make_customer, make_package, make_router
from ispb_billing import Money
from ispb_netsync.radius import AcctStatusType, Code, Packet, attr, build_response, decode, send_request
from ispb_platform.billing.jobs import auto_suspend, generate_bills
from ispb_platform.billing.suspension.actions import activate_if_paid
from ispb_platform.jobs.job import JobContext
from ispb_platform.network.jobs import run_due_commands
from ispb_platform.network.radius.config import Listen, generate
from ispb_platform.network.radius.sync import sync_customer
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_platform.secrets_box import reveal
from ispb_tenants import Database, TenantRef
from peers.freeradius import free_udp_ports, running_freeradius

pytestmark = pytest.mark.radius

SECRET_KEY = "r" * 40
NAS, NAS_SECRET = "127.0.0.3", "nas-secret-7"
NOV_1, NOV_12 = date(2026, 11, 1), date(2026, 11, 12)


class _Nas(asyncio.DatagramProtocol):
    """The router's RADIUS incoming listener: checks each request's authenticator, ACKs disconnects."""

    def __init__(self) -> None:
        self.requests: list[Packet] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        zeroed = data[:4] + bytes(16) + data[20:]
        if hashlib.md5(zeroed + NAS_SECRET.encode()).digest() != data[4:20]:
            return
        request = decode(data)
        self.requests.append(request)
        if self.transport is not None:
            self.transport.sendto(build_response(Code.DISCONNECT_ACK, request, NAS_SECRET.encode()), addr)


@asynccontextmanager
async def nas_listener() -> AsyncIterator[tuple[int, _Nas]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Nas, local_addr=(NAS, 0))
    try:
        yield transport.get_extra_info("sockname")[1], protocol
    finally:
        transport.close()


def _ctx(db: Database, tenant: TenantRef, today: date) -> JobContext:
    return JobContext(db=db, today=today, now=datetime.now(UTC), tenant=tenant, secret_key=SECRET_KEY)


async def test_radius_customer_is_suspended_and_reactivated_through_freeradius(
    db: Database, database_url: str, make_tenant, tmp_path: Path
):
    tenant = await make_tenant("radsvc")
    async with nas_listener() as (coa_port, nas):
        async with db.tenant(tenant) as scope:
            package_id = await make_package(
                scope, name="Fiber 10", price_minor=60000, download_kbps=10000, upload_kbps=5000
            )
            router_id = await make_router(
                scope,
                name="Edge",
                host=NAS,
                username="ispb",
                password="api-pass",
                mode="radius",
                radius_secret=NAS_SECRET,
                secret_key=SECRET_KEY,
                nas_address=NAS,
                coa_port=coa_port,
            )
            customer_id = await make_customer(
                scope,
                code="R1",
                name="Rahim",
                phone="+8801711000001",
                package_id=package_id,
                connection_date=date(2026, 1, 1),
                router_id=router_id,
                pppoe_username="rahim-r",
                pppoe_password="dial-in-pass",
                secret_key=SECRET_KEY,
            )
            assert await sync_customer(scope.connection, SECRET_KEY, customer_id)
        auth_port, acct_port = free_udp_ports(2, NAS)
        async with db.pool.acquire() as connection:
            config = await generate(
                connection,
                tmp_path,
                database_url=database_url,
                reveal=lambda sealed, binding: reveal(SECRET_KEY, sealed, binding),
                listen=Listen(NAS, auth_port, acct_port),
            )
        files = {name: (tmp_path / name).read_text() for name in config.files}
        with running_freeradius(files, auth_port=auth_port, acct_port=acct_port, address=NAS) as radius:

            async def login() -> Packet:
                return await send_request(
                    NAS,
                    auth_port,
                    NAS_SECRET,
                    Code.ACCESS_REQUEST,
                    [attr("User-Name", "rahim-r"), attr("NAS-IP-Address", NAS), attr("NAS-Port", 1)],
                    password="dial-in-pass",
                    source_address=NAS,
                    timeout=2,
                    retries=1,
                )

            async def accounting(status: AcctStatusType, session: str) -> None:
                """What the router reports: the NAS sends Stop after it ended a session on request."""
                answer = await send_request(
                    NAS,
                    acct_port,
                    NAS_SECRET,
                    Code.ACCOUNTING_REQUEST,
                    [
                        attr("User-Name", "rahim-r"),
                        attr("NAS-IP-Address", NAS),
                        attr("Acct-Status-Type", status),
                        attr("Acct-Session-Id", session),
                        attr("Framed-IP-Address", "100.64.0.9"),
                    ],
                    source_address=NAS,
                    timeout=2,
                    retries=1,
                )
                assert answer.code is Code.ACCOUNTING_RESPONSE

            accepted = await login()
            assert accepted.code is Code.ACCESS_ACCEPT, radius.log()[-2000:]
            assert accepted.get("Mikrotik-Rate-Limit") == "5M/10M"
            await accounting(AcctStatusType.START, "81a00001")

            await generate_bills(_ctx(db, tenant, NOV_1))
            counts = await auto_suspend(_ctx(db, tenant, NOV_12))
            assert counts["suspended"] == 1 and counts["router_done"] == 1
            assert [(r.get("User-Name"), r.get("Acct-Session-Id")) for r in nas.requests] == [("rahim-r", "81a00001")]
            await accounting(AcctStatusType.STOP, "81a00001")
            suspended = await login()
            assert suspended.code is Code.ACCESS_ACCEPT
            assert suspended.get("Mikrotik-Address-List") == "ispb-suspended"
            assert suspended.get("Mikrotik-Rate-Limit") != "5M/10M"
            async with db.tenant(tenant) as scope:
                address = await scope.connection.fetchval(
                    "SELECT host(last_address) FROM customer WHERE id = $1", customer_id
                )
            assert address == "100.64.0.9"  # where the suspension portal recognises the customer
            await accounting(AcctStatusType.START, "81a00002")  # back online, in the suspended profile

            async with db.tenant(tenant) as scope:
                await record_payment(
                    scope.connection,
                    customer_id=customer_id,
                    amount=Money(60000, tenant.currency),
                    method=PaymentMethod.CASH,
                    reference="",
                    received_on=NOV_12,
                    received_by="test",
                )
                back = await activate_if_paid(
                    scope.connection, tenant, customer_id, NOV_12, secret_key=SECRET_KEY, actor="test"
                )
            assert back is not None
            await run_due_commands(_ctx(db, tenant, NOV_12))
            assert nas.requests[-1].get("Acct-Session-Id") == "81a00002"  # ended, so the next login gets the package
            await accounting(AcctStatusType.STOP, "81a00002")
            again = await login()
            assert again.code is Code.ACCESS_ACCEPT and again.get("Mikrotik-Rate-Limit") == "5M/10M"
            assert again.get("Mikrotik-Address-List") is None
