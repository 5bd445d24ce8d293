"""The RADIUS Status-Server check against a real FreeRADIUS with ISPB's generated configuration (the operator's
router as the RADIUS client), switched off and on; a wrong secret is down (the server drops what it cannot
authenticate)."""

import pytest

from ispb_monitor.checks import RadiusCheck, Status, check_radius
from ispb_notify import OutboundPolicy
from ispb_platform.network.radius.config import Listen, RadiusNas, RadiusTenant, render
from ispb_tenants import Database
from peers.freeradius import free_udp_ports, running_freeradius

pytestmark = pytest.mark.radius
LOOPBACK = OutboundPolicy.parse("127.0.0.0/8")


async def test_status_server_of_a_real_freeradius(db: Database, database_url: str, make_tenant) -> None:
    tenant = await make_tenant("monrad")
    nas = RadiusTenant(tenant.slug, tenant.schema, (RadiusNas(1, "core", "127.0.0.1", "status-secret"),))
    auth_port, acct_port = free_udp_ports(2)
    files = render([nas], database_url=database_url, listen=Listen("127.0.0.1", auth_port, acct_port)).files
    check = RadiusCheck("127.0.0.1", "status-secret", auth_port, timeout=2)
    with running_freeradius(files, auth_port=auth_port, acct_port=acct_port):
        up = await check_radius(check, policy=LOOPBACK)
        assert up.status is Status.UP, up
        wrong = await check_radius(RadiusCheck("127.0.0.1", "wrong", auth_port, timeout=1), policy=LOOPBACK)
        assert wrong.status is Status.DOWN
    stopped = await check_radius(check, policy=LOOPBACK)
    assert stopped.status is Status.DOWN and "no answer" in stopped.message
    with running_freeradius(files, auth_port=auth_port, acct_port=acct_port):
        assert (await check_radius(check, policy=LOOPBACK)).status is Status.UP
