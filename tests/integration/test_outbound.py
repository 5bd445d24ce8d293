"""Gateway URLs an operator types reach no loopback, private or metadata address unless the platform
administrator allows it (``ISPB_OUTBOUND_ALLOW``); the demo's SMS sink, which shows every operator's one-time
codes, is for the platform administrator only.

Seen before: a "test message" to ``http://127.0.0.1:6379/`` reached the platform's Redis. The listener here
stands in for it on loopback and counts the connections that arrive (the session's Redis is shared with other
test runs, so its own counters would not prove anything).
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ispb_notify import OutboundPolicy
from ispb_platform.demo import sms_sink
from ispb_tenants import Database, TenantRef

LOOPBACK_REFUSED = "127.0.0.1 is a loopback address (this server itself); ask your platform administrator to allow it"


@dataclass
class Listener:
    port: int = 0
    connections: int = 0


@asynccontextmanager
async def listening() -> AsyncIterator[Listener]:
    listener = Listener()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.connections += 1
        writer.write(b"-ERR unknown command 'GET'\r\n")  # what Redis answers an HTTP request line
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    listener.port = server.sockets[0].getsockname()[1]
    async with server:
        yield listener


async def _store_gateway(db: Database, tenant: TenantRef, url: str) -> None:
    """A gateway saved before the policy existed (or by a script): the send must still be refused."""
    config = {"url": url, "method": "GET", "params": {"to": "{to}", "text": "{text}"}, "timeout": 2.0}
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO notify_gateway (channel, kind, config) VALUES ('sms', 'http_sms', $1::jsonb)",
            json.dumps(config),
        )


async def test_a_test_message_to_a_loopback_service_is_refused_before_connecting(
    db: Database, make_tenant, make_client, make_staff, sign_in
):
    tenant = await make_tenant("outbound")
    async with listening() as redis:
        await _store_gateway(db, tenant, f"http://127.0.0.1:{redis.port}/")
        client = make_client()
        token = await sign_in(client, await make_staff("operator_admin", tenant))
        tested = await client.post(
            "/panel/notifications/gateway/test", data={"_csrf_token": token, "to": "01711000005"}
        )
        page = (await client.get(tested.headers["location"])).text
    assert redis.connections == 0
    assert LOOPBACK_REFUSED in page.replace("&#39;", "'")


async def test_a_gateway_url_to_a_private_address_is_a_field_error_until_allowed(
    db: Database, make_tenant, make_client, make_staff, sign_in, allow_outbound
):
    tenant = await make_tenant("outbound")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    form = {"_csrf_token": token, "method": "GET", "params": "to={to}\ntext={text}", "enabled": "on"}
    async with listening() as redis:
        for url, words in (
            (f"http://127.0.0.1:{redis.port}/", LOOPBACK_REFUSED),
            ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
            ("http://10.0.0.5:13013/cgi-bin/sendsms", "10.0.0.5 is on a private network"),
            ("http://localhost:6379/", "localhost resolves to"),
        ):
            refused = await client.post("/panel/notifications/gateway", data=form | {"url": url})
            assert refused.status_code == 422, url
            assert words in refused.text.replace("&#39;", "'"), url
            assert f'value="{url}"' in refused.text  # what was typed is kept
        async with db.tenant(tenant) as scope:
            assert await scope.connection.fetchval("SELECT count(*) FROM notify_gateway") == 0
        allow_outbound(f"127.0.0.1:{redis.port}")  # ISPB_OUTBOUND_ALLOW=127.0.0.1:<port>
        saved = await client.post(
            "/panel/notifications/gateway", data=form | {"url": f"http://127.0.0.1:{redis.port}/"}
        )
        assert saved.status_code == 303
    assert redis.connections == 0  # saving checks the address; it sends nothing


async def test_the_demo_sink_shows_codes_to_the_platform_admin_only(make_client, make_staff, sign_in, make_tenant):
    tenant = await make_tenant("sink")
    sender = make_client()  # the sender job: no session, as a gateway is called
    accepted = await sender.get(f"{sms_sink.PATH}/send", params={"to": "8801711000009", "text": "Your code is 482913"})
    assert accepted.status_code == 202
    assert (await make_client().get(f"{sms_sink.PATH}/")).status_code in (303, 401)
    operator = make_client()
    await sign_in(operator, await make_staff("operator_admin", tenant))
    assert (await operator.get(f"{sms_sink.PATH}/")).status_code == 403
    admin = make_client()
    await sign_in(admin, await make_staff("platform_admin"))
    page = await admin.get(f"{sms_sink.PATH}/")
    assert page.status_code == 200 and "482913" in page.text


def test_the_demo_allows_its_own_sink_and_nothing_else_on_the_machine():
    policy = sms_sink.allow_sink(OutboundPolicy(), "127.0.0.1", 8000)
    assert policy.refusal("127.0.0.1", "127.0.0.1", 8000) is None
    assert policy.refusal("127.0.0.1", "127.0.0.1", 6379) is not None  # the machine's Redis
    assert sms_sink.gateway_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/demo/sms-gateway/send"
