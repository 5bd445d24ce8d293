"""Every default customer message, rendered by the platform's own value builders with realistic values, reads
like a person wrote it (issue 11: a suspension SMS read "your service is suspended: Suspend: bill 258: ...
unpaid after 3 grace days.. Call ...").

The messages are made as in production: domain events written by the real actions (payment, suspension,
reactivation) or with the payloads the panel writes (welcome, package change), turned into messages by
``events_to_outbox``; due-date reminders and expiration notices by their jobs; the OTP by the portal's
``send_code``. Each text is then checked for what gave it away as a machine's: internal ids, ``None``, a ``-``
placeholder, double punctuation, unrendered braces, ISO dates, amounts without a currency.
"""

import json
import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from factories import make_billing_profile, make_customer, make_package
from ispb_billing import Money
from ispb_notify import DEFAULT_TEMPLATES, Event
from ispb_platform.billing.jobs import generate_bills
from ispb_platform.billing.suspension.actions import activate, suspend
from ispb_platform.jobs.job import JobContext
from ispb_platform.notify.events import customer_values, events_to_outbox
from ispb_platform.notify.jobs import due_date_reminders, expiration_notices
from ispb_platform.notify.outbox import MASK, outbox_binding
from ispb_platform.payments.service import PaymentMethod, record_payment
from ispb_platform.portal.otp import send_code
from ispb_platform.secrets_box import reveal
from ispb_tenants import Database, TenantRef

SECRET = "m" * 40
DHAKA = ZoneInfo("Asia/Dhaka")
OPERATOR, OPERATOR_PHONE = "Dhaka Fiber Net", "09610-100200"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
AMOUNT = re.compile(r"\d[\d,]*\.\d{2}")
READABLE_DATE = re.compile(r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b")


def _ctx(db: Database, tenant: TenantRef, day: date, at: time = time(10, 30)) -> JobContext:
    return JobContext(
        db=db, today=day, now=datetime.combine(day, at, DHAKA).astimezone(UTC), tenant=tenant, secret_key=SECRET
    )


def assert_reads_like_a_person(text: str, *, known: tuple[str, ...]) -> None:
    """No machine traces; every digit in the text belongs to a value the customer knows (``known``: names,
    codes, phones, the OTP), to an amount with its currency or to a readable date, never to an internal id."""
    assert text and text == text.strip(), text
    assert "None" not in text and "{" not in text and "}" not in text and "{%" not in text, text
    assert not re.search(r"[.,:;!?]\s*[.,:;!?]", text), f"double punctuation: {text}"
    assert not re.search(r"\s[.,:;]", text), f"punctuation after a space (an empty value?): {text}"
    assert not re.search(r"(?:^|\s)-(?:\s|$|[.,])", text), f"a '-' placeholder: {text}"
    assert not ISO_DATE.search(text), f"a machine date: {text}"
    for amount in AMOUNT.finditer(text):
        assert text[amount.end() :].startswith(" BDT"), f"an amount without its currency: {text}"
    rest = READABLE_DATE.sub("", AMOUNT.sub("", text))
    for value in sorted(known, key=len, reverse=True):
        rest = rest.replace(value, "")
    assert not re.search(r"\d", rest), f"a number the customer cannot know (an internal id?): {text}"


@pytest.fixture(name="customers")
async def fx_customers(db: Database, make_tenant):
    """An operator with a monthly customer (billed 1-31 December, 500.00 due on 8 December) and a prepaid one
    (the 1-day hotspot on a daily profile, paid for 1 December), every event enabled."""
    tenant = await make_tenant("texts")
    await db.pool.execute(
        "UPDATE platform.tenant SET name = $2, phone = $3, sms_credit = 1000 WHERE id = $1",
        tenant.id,
        OPERATOR,
        OPERATOR_PHONE,
    )
    async with db.tenant(tenant) as scope:
        home = await make_package(scope, name="Home 20 Mbps", price_minor=50000)
        fiber = await make_package(scope, name="Family 40 Mbps", price_minor=120000)
        hotspot = await make_package(scope, name="Daily Hotspot 1 Day", price_minor=3000, validity_days=1)
        daily = await make_billing_profile(scope, name="Prepaid daily", cycle="daily", due_days=0, grace_days=1)
        karim = await make_customer(
            scope,
            code="C000123",
            name="Karim Hossain",
            phone="01711000123",
            package_id=home,
            connection_date=date(2026, 1, 1),
            pppoe_username="karim123",
        )
        sadia = await make_customer(
            scope,
            code="C000124",
            name="Sadia Islam",
            phone="01811000124",
            package_id=hotspot,
            billing_profile_id=daily,
            connection_date=date(2026, 1, 1),
        )
        for offset in (-3, 0, 2):
            await scope.connection.execute(
                "INSERT INTO notify_rule (kind, offset_days) VALUES ('due_date', $1)", offset
            )
        await scope.connection.execute("INSERT INTO notify_rule (kind, offset_days) VALUES ('expiration', 1)")
        for event in Event:
            await scope.connection.execute(
                "INSERT INTO notify_event (event, enabled, channel) VALUES ($1, true, 'sms')"
                " ON CONFLICT (event) DO UPDATE SET enabled = true",
                event.value,
            )
    await generate_bills(_ctx(db, tenant, date(2026, 12, 1)))
    return {"tenant": tenant, "karim": karim, "sadia": sadia, "home": home, "fiber": fiber}


KNOWN = (
    "Karim Hossain",
    "C000123",
    "karim123",
    "Sadia Islam",
    "C000124",
    "Home 20 Mbps",
    "Family 40 Mbps",
    "Daily Hotspot 1 Day",
    OPERATOR,
    OPERATOR_PHONE,
)


async def _outbox(db: Database, tenant: TenantRef) -> dict[str, list[str]]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT cause, body FROM outbox ORDER BY id")
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["cause"], []).append(row["body"])
    return found


async def test_every_default_customer_message_reads_like_a_person_wrote_it(db: Database, customers):
    tenant, karim, sadia = customers["tenant"], customers["karim"], customers["sadia"]
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        bill_id = await connection.fetchval("SELECT id FROM bill WHERE customer_id = $1", karim)
        # as the panel writes them (customers/service.py)
        await connection.execute(
            "INSERT INTO domain_event (name, customer_id, payload) VALUES ('customer.created', $1, '{}'),"
            " ('package.changed', $1, $2::jsonb), ('customer.fup_applied', $1, $3::jsonb)",
            karim,
            json.dumps({"from": customers["home"], "to": customers["fiber"]}),
            # as billing.fup_enforce writes it (billing/fair_usage.py)
            json.dumps({"fup_speed": "1 Mbps down, 512 kbps up", "reset_date": "2027-01-01"}),
        )
        await suspend(
            connection,
            karim,
            secret_key=SECRET,
            actor="billing.auto_suspend",
            reason=f"Suspend: bill {bill_id}: 500.00 BDT due 2026-12-08, unpaid after 3 grace days.",
            rule="grace",
            bill_id=bill_id,
            amount_due_minor=50000,
        )
        await record_payment(
            connection,
            customer_id=karim,
            amount=Money(20000, "BDT"),
            method=PaymentMethod.CASH,
            reference="",
            received_on=date(2026, 12, 12),
            received_by="test",
        )
        await activate(connection, karim, secret_key=SECRET, actor="Test operator", reason="by hand")
        assert await send_code(connection, tenant, SECRET, "C000123", "203.0.113.7", datetime.now(UTC))
    await events_to_outbox(db, tenant, SECRET)
    for day in (date(2026, 12, 5), date(2026, 12, 8), date(2026, 12, 10)):
        await due_date_reminders(_ctx(db, tenant, day))
    await expiration_notices(_ctx(db, tenant, date(2026, 12, 1), time(12, 0)))

    texts = await _outbox(db, tenant)
    expected = {event.value for event in Event} | {"due_date", "expiration"}
    assert set(texts) == expected, texts
    async with db.tenant(tenant) as scope:
        otp = await scope.connection.fetchrow("SELECT key, body, text_sealed FROM outbox WHERE cause = 'otp.requested'")
    # the stored text masks the code (Sent Messages never shows it); the gateway gets the sealed real text
    assert MASK in otp["body"]
    sent = reveal(SECRET, otp["text_sealed"], outbox_binding(tenant.id, otp["key"]))
    code = re.search(r"(?<=code is )\d{6}\b", sent)
    assert code is not None and otp["body"].replace(MASK, code.group()) == sent
    texts["otp.requested"] = [sent]
    for bodies in texts.values():
        for body in bodies:
            assert_reads_like_a_person(body, known=(*KNOWN, code.group(), "5 minutes", "1 Mbps down, 512 kbps up"))
    assert texts["package.changed"] == [
        "Dear Karim Hossain, your package changed from Home 20 Mbps to Family 40 Mbps. Dhaka Fiber Net"
    ]
    assert texts["customer.fup_applied"] == [
        "Dear Karim Hossain, you have used this cycle's data of Home 20 Mbps, so your speed is 1 Mbps down, 512 kbps"
        " up. Full speed returns on 1 Jan 2027. Dhaka Fiber Net"
    ]
    assert texts["customer.suspended"] == [
        "Dear Karim Hossain, your service is suspended: 500.00 BDT is overdue. Call 09610-100200. Dhaka Fiber Net"
    ]
    assert "we received 200.00 BDT. Balance: 300.00 BDT due." in texts["payment.received"][0]
    assert texts["due_date"][0] == "Dear Karim Hossain, your bill of 300.00 BDT is due on 8 Dec 2026. Dhaka Fiber Net"
    assert "service is active until 31 Dec 2026." in texts["customer.activated"][0]
    # a validity package's expiry is the end of its paid validity, the same in every message that names it
    [expiry] = texts["expiration"]
    assert expiry.startswith("Dear Sadia Islam, your Daily Hotspot 1 Day service expires on 1 Dec 2026.")
    async with db.tenant(tenant) as scope:
        values = await customer_values(scope.connection, tenant, sadia)
    assert values is not None and values["expiry_date"] == "1 Dec 2026"


async def test_messages_read_well_when_values_are_missing(db: Database, make_tenant):
    """A new operator without a support phone, a customer never billed: no "Call ." and no "until -"."""
    tenant = await make_tenant("bare")
    await db.pool.execute("UPDATE platform.tenant SET name = $2, phone = '' WHERE id = $1", tenant.id, OPERATOR)
    async with db.tenant(tenant) as scope:
        package = await make_package(scope, name="Home 20 Mbps")
        customer = await make_customer(scope, code="C000200", name="Nusrat Jahan", package_id=package)
        values = await customer_values(scope.connection, tenant, customer)
    assert values is not None
    from ispb_notify import render

    for key in (Event.CUSTOMER_ACTIVATED.value, Event.CUSTOMER_SUSPENDED.value):
        text = render(DEFAULT_TEMPLATES[key], values | {"reason": "your account is on hold"})
        assert_reads_like_a_person(text, known=("Nusrat Jahan", "C000200", "Home 20 Mbps", OPERATOR))
