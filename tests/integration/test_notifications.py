"""Notifications against a local HTTP SMS gateway: a scripted month of due-date reminders and event messages,
delivered once each through failures, a dead sender's claim, and an empty SMS credit."""

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from factories import make_customer, make_package
from ispb_billing import Money
from ispb_notify import Channel, OutboundPolicy
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.jobs.job import JobContext
from ispb_platform.notify.events import events_to_outbox
from ispb_platform.notify.gateways import gateway_binding
from ispb_platform.notify.jobs import due_date_reminders, send_outbox
from ispb_platform.notify.outbox import PrivateText, enqueue
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_platform.secrets_box import seal
from ispb_tenants import Database, TenantRef
from peers.sms_gateway import SmsGatewayPeer
from processes import ispb_environment

SECRET = "t" * 40
PEERS = OutboundPolicy.parse("127.0.0.1")  # the gateway peers listen on loopback
DHAKA = ZoneInfo("Asia/Dhaka")


def _ctx(db: Database, tenant: TenantRef, day: date, at: time = time(10, 30)) -> JobContext:
    now = datetime.combine(day, at, DHAKA).astimezone(UTC)
    return JobContext(db=db, today=day, now=now, tenant=tenant, secret_key=SECRET, outbound=PEERS)


@pytest.fixture(name="gateway")
async def fx_gateway():
    async with SmsGatewayPeer(credentials={"username": "ispb", "password": "gw-pass"}) as peer:
        yield peer


@pytest.fixture(name="notified")
async def fx_notified(db: Database, make_tenant, gateway: SmsGatewayPeer):
    tenant = await make_tenant("sms")
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        package_id = await make_package(scope, name="Home", price_minor=50000)
        ids = [
            await make_customer(
                scope, code=code, name=name, phone=phone, package_id=package_id, connection_date=date(2026, 1, 1)
            )
            for code, name, phone in (("C1", "Rahim", "01711000001"), ("C2", "Karim", "01711000002"))
        ]
        config = {
            "url": gateway.url,
            "method": "GET",
            "params": {"username": "ispb", "password": "{secret}", "to": "{to}", "text": "{text}", "ref": "{ref}"},
            "success_pattern": "Accepted",
            "message_id_pattern": "Accepted: (\\S+)",
            "timeout": 1.0,
        }
        await connection.execute(
            "INSERT INTO notify_gateway (channel, kind, config, secret_sealed)"
            " VALUES ('sms', 'http_sms', $1::jsonb, $2)",
            json.dumps(config),
            seal(SECRET, "gw-pass", gateway_binding(tenant.id, "sms")),
        )
        for offset in (-3, 0, 2):
            await connection.execute("INSERT INTO notify_rule (kind, offset_days) VALUES ('due_date', $1)", offset)
        await connection.execute(
            "INSERT INTO notify_event (event, enabled, channel) VALUES ('payment.received', true, 'sms')"
        )
    await db.pool.execute("UPDATE platform.tenant SET sms_credit = 1000 WHERE id = $1", tenant.id)
    await generate_bills(_ctx(db, tenant, date(2026, 11, 1)))  # due 8 November
    return {"tenant": tenant, "customers": ids}


async def _day(db: Database, tenant: TenantRef, day: date) -> None:
    await due_date_reminders(_ctx(db, tenant, day))
    await send_outbox(_ctx(db, tenant, day))


async def test_a_month_of_reminders_and_a_payment_message_arrive_once_each(db: Database, notified, gateway):
    tenant, (rahim, _) = notified["tenant"], notified["customers"]
    early = await due_date_reminders(_ctx(db, tenant, date(2026, 11, 5), time(9, 0)))
    assert early["queued"] == 0 and early["before_send_time"] == 1  # the send time is 10:00 in Dhaka
    for day in range(1, 13):
        if day == 6:  # Rahim pays after the first reminder
            async with db.tenant(tenant) as scope:
                await record_payment(
                    scope.connection,
                    customer_id=rahim,
                    amount=Money(50000, tenant.currency),
                    method=PaymentMethod.CASH,
                    reference="",
                    received_on=date(2026, 11, 6),
                    received_by="test",
                )
        await _day(db, tenant, date(2026, 11, day))
        await _day(db, tenant, date(2026, 11, day))  # a second tick the same day adds nothing
    got = [(m.to, m.text.split(",")[0]) for m in gateway.messages]
    assert sorted(m.to for m in gateway.messages) == sorted(
        ["8801711000001", "8801711000002", "8801711000001", "8801711000002", "8801711000002"]
    )
    assert len(gateway.messages) == 5, got  # Karim: -3, 0, +2; Rahim: -3, then his payment
    payment = [m for m in gateway.messages if "500.00" in m.text and m.to.endswith("01")]
    assert len(payment) == 2 and any("Rahim" in m.text for m in payment)
    async with db.tenant(tenant) as scope:
        statuses = await scope.connection.fetch("SELECT status, provider_message_id FROM outbox")
    assert {r["status"] for r in statuses} == {"sent"} and all(r["provider_message_id"] for r in statuses)
    credit = await db.pool.fetchval("SELECT sms_credit FROM platform.tenant WHERE id = $1", tenant.id)
    assert credit == 1000 - len(statuses)  # one segment each


async def test_gateway_failures_are_retried_and_delivered_once(db: Database, notified, gateway):
    tenant = notified["tenant"]
    gateway.fail_next(2)
    await due_date_reminders(_ctx(db, tenant, date(2026, 11, 5)))
    first = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert first["retry"] == 2 and first["sent"] == 0
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT status, attempts, last_error FROM outbox")
    assert all(r["status"] == "queued" and r["attempts"] == 1 and "GatewayUnavailable" in r["last_error"] for r in rows)
    await gateway.down()
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE outbox SET next_attempt_at = now()")
    down = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert down["retry"] == 2
    await gateway.up()
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE outbox SET next_attempt_at = now()")
    done = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert done["sent"] == 2 and len(gateway.messages) == 2
    assert (await send_outbox(_ctx(db, tenant, date(2026, 11, 5))))["sent"] == 0


async def test_a_sender_that_died_mid_send_is_taken_over_and_no_credit_means_waiting(db: Database, notified, gateway):
    tenant = notified["tenant"]
    await due_date_reminders(_ctx(db, tenant, date(2026, 11, 5)))
    async with db.tenant(tenant) as scope:  # a sender claimed both and died before answering
        await scope.connection.execute(
            "UPDATE outbox SET status = 'sending', claimed_at = now() - interval '10 minutes', attempts = 1"
        )
    await db.pool.execute("UPDATE platform.tenant SET sms_credit = 1 WHERE id = $1", tenant.id)
    result = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert result["sent"] == 1 and result["waiting_credit"] == 1
    async with db.tenant(tenant) as scope:
        waiting = await scope.connection.fetchrow("SELECT status, last_error FROM outbox WHERE status <> 'sent'")
    assert waiting["status"] == "waiting_credit" and "SMS credit" in waiting["last_error"]
    await db.pool.execute("UPDATE platform.tenant SET sms_credit = 10 WHERE id = $1", tenant.id)
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE outbox SET next_attempt_at = now() WHERE status = 'waiting_credit'")
    assert (await send_outbox(_ctx(db, tenant, date(2026, 11, 5))))["sent"] == 1
    assert len(gateway.messages) == 2  # each message once
    refs = [m.request.query.get("ref") for m in gateway.messages if m.request is not None]
    assert sorted(refs) == sorted({r for r in refs}) and all(r and r.startswith("due:") for r in refs)


async def test_a_postpaid_operator_sends_without_credit_and_is_billed_for_it(db: Database, notified, gateway):
    """Issue 18: an operator whose plan bills SMS afterwards sends with no credit, and is billed once for each."""
    from ispb_platform.subscriptions.sms import bill_sms

    tenant = notified["tenant"]
    plan_id = await db.fetchval(
        "INSERT INTO platform.subscription_plan (name, sms_price) VALUES ($1, 0.5) RETURNING id", f"SMS {tenant.slug}"
    )
    await db.pool.execute(
        "INSERT INTO platform.tenant_subscription (tenant_id, plan_id, started_on, sms_billing)"
        " VALUES ($1, $2, '2020-01-01', 'postpaid')",
        tenant.id,
        plan_id,
    )
    await db.pool.execute("UPDATE platform.tenant SET sms_credit = 0 WHERE id = $1", tenant.id)
    await due_date_reminders(_ctx(db, tenant, date(2026, 11, 5)))
    result = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert (result["sent"], result["waiting_credit"]) == (2, 0) and len(gateway.messages) == 2
    assert await db.fetchval("SELECT sms_credit FROM platform.tenant WHERE id = $1", tenant.id) == 0
    today = datetime.now(UTC).date()
    await bill_sms(db, today, "now")
    await bill_sms(db, today, "again")
    async with db.tenant(tenant) as scope:
        segments = await scope.connection.fetchval("SELECT sum(segments) FROM outbox WHERE status = 'sent'")
    total = await db.fetchval(
        "SELECT total_minor FROM platform.subscription_bill WHERE tenant_id = $1 AND kind = 'sms'", tenant.id
    )
    assert total == segments * 50


async def test_a_bad_template_is_refused_at_save_with_its_position(notified, make_client, make_staff, sign_in):
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", notified["tenant"]))
    bad = await client.post(
        "/panel/notifications/events/payment.received",
        data={"_csrf_token": token, "body": "Dear {{ customer_name }, paid {{ payment_amount }}", "enabled": "on"},
    )
    assert bad.status_code == 422 and "line 1" in bad.text
    unknown = await client.post(
        "/panel/notifications/events/payment.received",
        data={"_csrf_token": token, "body": "Paid {{ amout }}", "enabled": "on"},
    )
    assert unknown.status_code == 422 and "amout" in unknown.text
    for page_url, extra in (
        ("/panel/notifications/events/payment.received", {"enabled": "on"}),
        ("/panel/notifications/due-date", {"offsets": "-3, 0", "send_time": "10:00"}),
        ("/panel/notifications/expiration", {"leads": "1d", "send_time": "10:00"}),
    ):  # the database refuses texts over 1,000 characters: the form says so first, and keeps the text
        long = "Dear {{ customer_name }} " + "x" * 2_000
        too_long = await client.post(page_url, data={"_csrf_token": token, "body": long, **extra})
        assert too_long.status_code == 422 and "1,000 characters" in too_long.text, page_url
    good = await client.post(
        "/panel/notifications/events/payment.received",
        data={"_csrf_token": token, "body": "Thanks {{ customer_name }}: {{ payment_amount }}", "enabled": "on"},
    )
    assert good.status_code == 303
    page = await client.get("/panel/notifications/events")
    assert "Thanks {{ customer_name }}" in page.text
    assert (await client.get("/panel/notifications/sent")).status_code == 200
    assert (await client.get("/panel/notifications/due-date")).status_code == 200
    assert (await client.get("/panel/notifications/gateway")).status_code == 200
    # the reminder pages preview as the operator types (htmx posts the text to /preview)
    typed = {"_csrf_token": token, "key": "due_date", "body": "Pay {{ amount_due }} by {{ due_date }"}
    assert "line 1" in (await client.post("/panel/notifications/preview", data=typed)).text
    typed["body"] = "Pay {{ amount_due }} by {{ due_date }}"
    shown = await client.post("/panel/notifications/preview", data=typed)
    assert "Pay 840.00 BDT by 2026-12-08" in shown.text and "1 SMS segment" in shown.text
    typed |= {"key": "expiration", "body": "Ends {{ due_date }}"}  # not a variable of expiry notices
    assert "unknown variable" in (await client.post("/panel/notifications/preview", data=typed)).text
    assert (await client.post("/panel/notifications/preview", data=typed | {"key": "x"})).status_code == 404


def test_backoff_grows_and_is_capped():
    from ispb_platform.notify.sender import backoff

    assert backoff(1) == timedelta(seconds=30) and backoff(2) == timedelta(seconds=60)
    assert backoff(30) == timedelta(hours=1)


async def test_expiration_notices_come_once_before_prepaid_time_runs_out(db: Database, make_tenant):
    from ispb_platform.notify.jobs import expiration_notices

    tenant = await make_tenant("prepaid")
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        await connection.execute("UPDATE billing_profile SET cycle = 'daily' WHERE is_default")
        package_id = await make_package(scope, name="Hotspot 30", price_minor=30000, validity_days=30)
        await make_customer(
            scope,
            code="P1",
            name="Prepaid",
            phone="01711000007",
            package_id=package_id,
            connection_date=date(2026, 11, 1),
        )
        await connection.execute("INSERT INTO notify_rule (kind, offset_days) VALUES ('expiration', 3)")
    await generate_bills(_ctx(db, tenant, date(2026, 11, 1)))  # paid time: 1–30 November
    assert (await expiration_notices(_ctx(db, tenant, date(2026, 11, 27))))["queued"] == 0
    first = await expiration_notices(_ctx(db, tenant, date(2026, 11, 28)))
    assert first["queued"] == 1
    assert (await expiration_notices(_ctx(db, tenant, date(2026, 11, 28), time(15, 0))))["queued"] == 0
    assert (await expiration_notices(_ctx(db, tenant, date(2026, 11, 29))))["queued"] == 0
    async with db.tenant(tenant) as scope:
        [message] = await scope.connection.fetch("SELECT key, body, to_address FROM outbox")
    assert message["key"].startswith("expiry:") and "expires on 30 Nov 2026" in message["body"]  # the last paid day
    assert message["to_address"] == "8801711000007"


async def test_low_sms_credit_alerts_the_operator_once_a_day(db: Database, notified):
    from ispb_platform.notify.jobs import low_sms_balance

    tenant = notified["tenant"]
    await db.pool.execute(
        "UPDATE platform.tenant SET sms_credit = 5, sms_low_threshold = 100, phone = '01711000099' WHERE id = $1",
        tenant.id,
    )
    assert (await low_sms_balance(_ctx(db, tenant, date(2026, 11, 5))))["alerted"] == 1
    assert (await low_sms_balance(_ctx(db, tenant, date(2026, 11, 5))))["alerted"] == 0
    assert (await low_sms_balance(_ctx(db, tenant, date(2026, 11, 6))))["alerted"] == 1
    async with db.tenant(tenant) as scope:
        keys = [r["key"] for r in await scope.connection.fetch("SELECT key FROM outbox ORDER BY id")]
    assert keys == ["lowcredit:2026-11-05", "lowcredit:2026-11-06"]


async def test_a_customer_with_a_mistyped_phone_does_not_block_the_others(db: Database, notified, gateway):
    tenant = notified["tenant"]
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE customer SET phone = '12' WHERE code = 'C1'")
    assert (await due_date_reminders(_ctx(db, tenant, date(2026, 11, 5))))["queued"] == 1
    await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert [m.to for m in gateway.messages] == ["8801711000002"]


async def test_expiration_notifier_page_saves_leads_and_refuses_bad_ones(
    notified, make_client, make_staff, sign_in, db
):
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", notified["tenant"]))
    bad = await client.post(
        "/panel/notifications/expiration",
        data={"_csrf_token": token, "leads": "3 days", "body": "Hi {{ customer_name }}, ends {{ expiry_date }}"},
    )
    assert bad.status_code == 422 and "write days as 3d" in bad.text and 'value="3 days"' in bad.text
    good = await client.post(
        "/panel/notifications/expiration",
        data={"_csrf_token": token, "leads": "3d, 6h", "body": "Hi {{ customer_name }}, ends {{ expiry_date }}"},
    )
    assert good.status_code == 303
    page = await client.get("/panel/notifications/expiration")
    assert 'value="3d, 6h"' in page.text
    async with db.tenant(notified["tenant"]) as scope:
        rules = await scope.connection.fetch(
            "SELECT offset_days, before_hours FROM notify_rule WHERE kind = 'expiration' ORDER BY 1 DESC, 2"
        )
    assert [tuple(r) for r in rules] == [(3, 0), (0, 6)]


async def test_portal_sign_in_with_a_one_time_code(db: Database, notified, gateway, make_client, csrf_of):
    import re

    tenant = notified["tenant"]
    client = make_client()
    token = csrf_of((await client.get(f"/portal/{tenant.slug}/otp")).text)
    unknown = await client.post(f"/portal/{tenant.slug}/otp", data={"_csrf_token": token, "login": "NOPE"})
    asked = await client.post(f"/portal/{tenant.slug}/otp", data={"_csrf_token": token, "login": "C1"})
    assert unknown.status_code == asked.status_code == 200
    assert "a 6-digit code is on its way" in unknown.text and "a 6-digit code is on its way" in asked.text
    async with db.tenant(tenant) as scope:
        [message] = await scope.connection.fetch("SELECT key, body, to_address FROM outbox")
        stored = await scope.connection.fetchval("SELECT code_hash FROM otp_code")
    # the code is never stored (the tenant slug may hold digits, so look where the code goes)
    assert "code is ••••••." in message["body"] and not re.search(r"code is \d", message["body"])
    await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    [sms] = gateway.messages  # only the gateway gets it
    code = re.search(r"code is (\d{6})\.", sms.text).group(1)
    assert message["key"].startswith("otp:") and message["to_address"] == "8801711000001" and code not in stored
    wrong = "000000" if code != "000000" else "111111"
    bad = await client.post(
        f"/portal/{tenant.slug}/otp/verify", data={"_csrf_token": token, "login": "C1", "code": wrong}
    )
    assert bad.status_code == 401 and "wrong or expired" in bad.text
    good = await client.post(
        f"/portal/{tenant.slug}/otp/verify", data={"_csrf_token": token, "login": "C1", "code": code}
    )
    assert good.status_code == 303
    assert "Hello, Rahim" in (await client.get(f"/portal/{tenant.slug}/")).text
    again = await make_client().post(
        f"/portal/{tenant.slug}/otp/verify", data={"_csrf_token": token, "login": "C1", "code": code}
    )
    assert again.status_code in (401, 403)  # used up (or no CSRF cookie on a new client: refused either way)
    for _ in range(3):  # at most 3 codes in 15 minutes, and the answer still does not tell
        await client.post(f"/portal/{tenant.slug}/otp", data={"_csrf_token": token, "login": "C1"})
    async with db.tenant(tenant) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM otp_code") == 3


async def test_a_sender_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    db: Database, database_url: str, notified, gateway
):
    """A real ``ispb jobs run notify.send_outbox`` process is killed (SIGKILL) while the gateway holds both of
    its requests; after the claim lease, the next sender delivers each message once."""
    import asyncio
    import signal
    import subprocess
    import sys
    from pathlib import Path

    tenant = notified["tenant"]
    await due_date_reminders(_ctx(db, tenant, date(2026, 11, 5)))
    gateway.stall_next(2)
    environment = ispb_environment(database_url, ISPB_SECRET_KEY=SECRET, ISPB_OUTBOUND_ALLOW="127.0.0.1")
    command = [str(Path(sys.executable).parent / "ispb"), "jobs", "run", "notify.send_outbox", "--tenant", tenant.slug]
    sender = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
    try:
        for _ in range(400):
            if len(gateway.attempts) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(gateway.attempts) == 2, "the sender never reached the gateway"
    finally:
        sender.send_signal(signal.SIGKILL)
        await asyncio.to_thread(sender.wait, 10)
    async with db.tenant(tenant) as scope:
        stuck = await scope.connection.fetch("SELECT status FROM outbox")
        assert {r["status"] for r in stuck} == {"sending"}
        await scope.connection.execute("UPDATE outbox SET claimed_at = now() - interval '10 minutes'")  # lease over
    result = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert result["sent"] == 2
    assert len(gateway.messages) == 2 and len({m.to for m in gateway.messages}) == 2  # each customer once
    credit = await db.pool.fetchval("SELECT sms_credit FROM platform.tenant WHERE id = $1", tenant.id)
    assert credit == 1000 - 2  # charged once each, although the dead sender had taken credit already


async def test_each_event_message_and_whatsapp_delivery(db: Database, notified, gateway):
    """Every event of the catalogue sends its message once; an event set to WhatsApp goes to the Cloud API."""
    from peers.whatsapp import WhatsAppPeer

    tenant, (rahim, karim) = notified["tenant"], notified["customers"]
    async with WhatsAppPeer(phone_number_id="1055", access_token="wa-token") as whatsapp:
        async with db.tenant(tenant) as scope:
            connection = scope.connection
            await connection.execute(
                "INSERT INTO notify_gateway (channel, kind, config, secret_sealed) VALUES ('whatsapp',"
                " 'whatsapp_cloud', $1::jsonb, $2)",
                json.dumps({"phone_number_id": "1055", "base_url": f"{whatsapp.base_url}/v20.0"}),
                seal(SECRET, "wa-token", gateway_binding(tenant.id, "whatsapp")),
            )
            events = {
                "customer.created": {},
                "payment.received": {"amount_minor": 30000},
                # as billing/suspension/actions.py writes it: the decision's internal wording is not for the customer
                "customer.suspended": {"bill_id": 7, "amount_due_minor": 50000, "reason": "Suspend: bill 7: ..."},
                "customer.activated": {},
                "package.changed": {"from_name": "Home", "to_name": "Fiber 40"},
            }
            for name in events:
                channel = "whatsapp" if name == "customer.suspended" else "sms"
                await connection.execute(
                    "INSERT INTO notify_event (event, enabled, channel) VALUES ($1, true, $2) ON CONFLICT (event)"
                    " DO UPDATE SET enabled = true, channel = EXCLUDED.channel",
                    name,
                    channel,
                )
            for name, payload in events.items():
                await connection.execute(
                    "INSERT INTO domain_event (name, customer_id, payload) VALUES ($1, $2, $3::jsonb)",
                    name,
                    karim,
                    json.dumps(payload),
                )
        first = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
        again = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
        assert first["from_events"] == 5 and first["sent"] == 5 and again["from_events"] == 0 and again["sent"] == 0
        assert [m.to for m in whatsapp.messages] == ["8801711000002"]
        suspended = whatsapp.messages[0].text
        assert "your service is suspended: 500.00 BDT is overdue. Call" in suspended
        assert "Suspend:" not in suspended and "bill 7" not in suspended
    texts = [m.text for m in gateway.messages]
    assert len(texts) == 4 and all(m.to == "8801711000002" for m in gateway.messages)
    assert any("300.00" in t for t in texts) and any("Fiber 40" in t for t in texts)
    assert rahim not in (None, karim)


async def test_whatsapp_setup_and_the_low_credit_notice(db: Database, notified, make_client, make_staff, sign_in):
    tenant = notified["tenant"]
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    saved = await client.post(
        "/panel/notifications/gateway/whatsapp",
        data={"_csrf_token": token, "phone_number_id": "1055", "access_token": "wa-secret", "enabled": "on"},
    )
    assert saved.status_code == 303
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(
            "SELECT kind, config, secret_sealed FROM notify_gateway WHERE channel = 'whatsapp'"
        )
    assert row["kind"] == "whatsapp_cloud" and "wa-secret" not in row["secret_sealed"]
    assert 'value="1055"' in (await client.get("/panel/notifications/gateway")).text
    assert 'id="sms-low"' not in (await client.get("/panel/")).text
    await db.pool.execute("UPDATE platform.tenant SET sms_credit = 3 WHERE id = $1", tenant.id)
    assert "SMS credit is low: 3 segments left" in (await client.get("/panel/")).text


async def test_sms_gateway_setup_keeps_the_stored_secret_and_sends_a_test_message(
    db: Database, notified, gateway, make_client, make_staff, sign_in, allow_outbound
):
    tenant = notified["tenant"]
    allow_outbound(f"127.0.0.1:{gateway.port}")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    page = await client.get("/panel/notifications/gateway")
    assert f'value="{gateway.url}"' in page.text and "Leave empty to keep the stored one" in page.text
    assert "1,000" in page.text  # the SMS credit
    form = {
        "_csrf_token": token,
        "url": gateway.url,
        "method": "GET",
        "params": "username=ispb\npassword={secret}\nto={to}\ntext={text}\nref={ref}",
        "success_pattern": "Accepted",
        "message_id_pattern": "Accepted: (\\S+)",
        "secret": "",
        "enabled": "on",
    }
    refused = await client.post("/panel/notifications/gateway", data=form | {"url": "ftp://x", "params": "to"})
    assert refused.status_code == 422 and "starting with http://" in refused.text and "name=value" in refused.text
    assert (await client.post("/panel/notifications/gateway", data=form)).status_code == 303
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow("SELECT config, secret_sealed, enabled FROM notify_gateway")
    assert json.loads(row["config"])["params"]["password"] == "{secret}" and row["secret_sealed"] and row["enabled"]
    tested = await client.post("/panel/notifications/gateway/test", data={"_csrf_token": token, "to": "01711000005"})
    assert tested.status_code == 303 and tested.headers["location"] == "/panel/notifications/gateway"
    assert "Sent. The gateway answered: Accepted" in (await client.get(tested.headers["location"])).text
    assert [m.to for m in gateway.messages] == ["8801711000005"]  # the stored password still opens the gateway


async def test_every_gateway_setting_mistake_is_a_field_error_and_nothing_is_saved(
    db: Database, notified, gateway, make_client, make_staff, sign_in, allow_outbound
):
    """A wrong WhatsApp phone number id was a redirect with an alert banner, and a success pattern that is no
    regular expression was saved (the sender failed on it later): each is a 422 beside its field now."""
    tenant = notified["tenant"]
    allow_outbound(f"127.0.0.1:{gateway.port}")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))

    async def stored() -> list[tuple[str, str]]:
        async with db.tenant(tenant) as scope:
            rows = await scope.connection.fetch("SELECT channel, config::text FROM notify_gateway ORDER BY 1")
        return [tuple(r) for r in rows]

    before = await stored()
    for phone_number_id in ("x", "12 34", "١٢٣", "9" * 31, ""):
        bad = await client.post(
            "/panel/notifications/gateway/whatsapp",
            data={"_csrf_token": token, "phone_number_id": phone_number_id, "access_token": "t", "enabled": "on"},
        )
        assert bad.status_code == 422, phone_number_id
        assert 'aria-describedby="phone_number_id-message"' in bad.text
        assert 'id="phone_number_id-message">Enter the phone number id from Meta' in bad.text
        assert f'value="{phone_number_id}"' in bad.text  # kept as typed
        assert f'value="{gateway.url}"' in bad.text  # the SMS form still shows what is stored
    no_token = await client.post(
        "/panel/notifications/gateway/whatsapp", data={"_csrf_token": token, "phone_number_id": "1055", "enabled": "on"}
    )
    assert no_token.status_code == 422 and "Enter the access token" in no_token.text
    spaced = {"_csrf_token": token, "phone_number_id": "1055", "access_token": "two words"}
    assert (await client.post("/panel/notifications/gateway/whatsapp", data=spaced)).status_code == 422

    form = {
        "_csrf_token": token,
        "url": gateway.url,
        "method": "GET",
        "params": "to={to}\ntext={text}",
        "success_pattern": "Accepted",
        "message_id_pattern": "",
        "enabled": "on",
    }
    for field, value, message in (
        ("success_pattern", "Accepted(", "not a regular expression"),
        ("message_id_pattern", "[", "not a regular expression"),
        ("url", "http://[::1/send?to={to}", "cannot be read"),
        ("url", "http://sms.example:99999/?to={to}", "cannot be read"),
        ("url", "http:///send", "host name"),
        ("url", "http://sms.example/\x00", "without spaces"),
        ("params", "to={to}\ntext={text}\x00", "name=value per line"),
        ("params", "to={to}\ntext={text}\n" + "x" * 5000, "name=value per line"),
        ("secret", "s" * 501, "one line"),
    ):
        bad = await client.post("/panel/notifications/gateway", data=form | {field: value})
        assert bad.status_code == 422, (field, value)
        assert f'aria-describedby="{field}-message"' in bad.text and message in bad.text, (field, value)
    assert await stored() == before

    for to, message in (("", "Enter the number"), ("call me", "Enter a mobile number"), ("1" * 50, "mobile number")):
        tested = await client.post("/panel/notifications/gateway/test", data={"_csrf_token": token, "to": to})
        assert tested.status_code == 422 and 'id="test-to-message"' in tested.text and message in tested.text
    assert gateway.messages == []


async def test_due_date_notifier_saves_rules_send_time_and_text(
    db: Database, notified, make_client, make_staff, sign_in
):
    tenant = notified["tenant"]
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    page = await client.get("/panel/notifications/due-date")
    assert 'value="-3, 0, +2"' in page.text and 'value="10:00"' in page.text
    body = "Pay {{ amount_due }} by {{ due_date }}"
    bad = await client.post(
        "/panel/notifications/due-date",
        data={"_csrf_token": token, "offsets": "-3, x, 90", "send_time": "9", "body": body},
    )
    assert bad.status_code == 422 and "Use days from -60 to 60." in bad.text and "Enter a time" in bad.text
    good = await client.post(
        "/panel/notifications/due-date",
        data={"_csrf_token": token, "offsets": "2, -5, 2", "send_time": "08:15", "body": body},
    )
    assert good.status_code == 303
    async with db.tenant(tenant) as scope:
        rules = await scope.connection.fetch("SELECT offset_days FROM notify_rule WHERE kind = 'due_date' ORDER BY 1")
        send_time = await scope.connection.fetchval("SELECT send_time FROM notify_schedule")
        stored = await scope.connection.fetchval("SELECT body FROM notify_template WHERE key = 'due_date'")
    assert [r["offset_days"] for r in rules] == [-5, 2] and send_time == time(8, 15) and stored == body
    page = await client.get("/panel/notifications/due-date")
    assert 'value="-5, +2"' in page.text and 'value="08:15"' in page.text and "Pay {{ amount_due }}" in page.text


async def test_sent_messages_are_listed_newest_first_and_filtered_by_status(
    db: Database, notified, gateway, make_client, make_staff, sign_in
):
    tenant = notified["tenant"]
    await due_date_reminders(_ctx(db, tenant, date(2026, 11, 5)))
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "UPDATE outbox SET status = 'failed', last_error = 'Refused: bad number' WHERE to_address = '8801711000002'"
        )
        newest_first = await scope.connection.fetch(
            "SELECT c.code FROM outbox o JOIN customer c ON c.id = o.customer_id ORDER BY o.id DESC"
        )
    client = make_client()
    await sign_in(client, await make_staff("operator_staff", tenant))
    everything = (await client.get("/panel/notifications/sent")).text
    assert "queued: 1" in everything and "failed: 1" in everything and "sent: 0" in everything
    first, second = (f">{r['code']}<" for r in newest_first)
    assert everything.index(first) < everything.index(second)
    failed = (await client.get("/panel/notifications/sent?status=failed")).text
    assert ">C2<" in failed and ">C1<" not in failed and "Refused: bad number" in failed
    assert "No messages yet." in (await client.get("/panel/notifications/sent?status=sending")).text


async def test_the_welcome_sms_password_reaches_only_the_gateway(
    db: Database, notified, gateway, make_client, make_staff, sign_in
):
    """Secrets are never shown back: the welcome message's PPPoE password is masked in the stored message, in
    Sent Messages and on the customer page; the gateway gets the real text."""
    tenant, password = notified["tenant"], "Kp7-wq2-dial"
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "INSERT INTO notify_event (event, enabled, channel) VALUES ('customer.created', true, 'sms')"
        )
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    created = await client.post(
        "/panel/customers/new",
        data={
            "_csrf_token": token,
            "code": "W1",
            "name": "Welcome Rahman",
            "phone": "01711000077",
            "pppoe_username": "w1",
            "pppoe_password": password,
        },
    )
    assert created.status_code == 303, created.text[:500]
    customer_url = created.headers["location"]
    await events_to_outbox(db, tenant, SECRET)
    async with db.tenant(tenant) as scope:
        queued = await scope.connection.fetchrow(
            "SELECT body, text_sealed FROM outbox WHERE cause = 'customer.created'"
        )
    assert password not in queued["body"] and "password: ••••••" in queued["body"]
    assert password not in queued["text_sealed"]
    await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    [welcome] = [m for m in gateway.messages if m.to == "8801711000077"]
    assert f"User: w1, password: {password}." in welcome.text
    sent_page = (await client.get("/panel/notifications/sent")).text
    customer_page = (await client.get(customer_url)).text
    assert "password: ••••••" in sent_page and "password: ••••••" in customer_page
    assert password not in sent_page and password not in customer_page
    async with db.tenant(tenant) as scope:
        sent = await scope.connection.fetchrow(
            "SELECT status, text_sealed FROM outbox WHERE cause = 'customer.created'"
        )
    assert sent["status"] == "sent" and sent["text_sealed"] is None  # the real text is not kept once delivered


async def test_a_message_text_that_no_longer_opens_fails_alone_with_the_reason(db: Database, notified, gateway):
    """A sealed text copied to another message (or sealed with a key this process lacks) fails that message with
    a clear reason and gives its credit back; the others go out."""
    tenant = notified["tenant"]
    async with db.tenant(tenant) as scope:
        for key in ("manual:1", "manual:2"):
            await enqueue(
                scope.connection,
                key=key,
                customer_id=None,
                channel=Channel.SMS,
                to="01711000009",
                body=f"{key} code ••••••",
                cause="test",
                private=PrivateText(f"{key} code 123456", SECRET, tenant.id),
            )
        await scope.connection.execute(
            "UPDATE outbox SET text_sealed = (SELECT text_sealed FROM outbox WHERE key = 'manual:1')"
            " WHERE key = 'manual:2'"
        )
    result = await send_outbox(_ctx(db, tenant, date(2026, 11, 5)))
    assert result["sent"] == 1 and result["failed"] == 1
    assert [m.text for m in gateway.messages] == ["manual:1 code 123456"]
    async with db.tenant(tenant) as scope:
        failed = await scope.connection.fetchrow(
            "SELECT status, last_error, credit_taken FROM outbox WHERE key = 'manual:2'"
        )
    assert failed["status"] == "failed" and "does not open" in failed["last_error"] and not failed["credit_taken"]
