"""``notify.due_date``: due-date reminders at the operator's send time, once per (bill, rule).

The job ticks hourly; before the tenant's local send time it does nothing, after it the rules (``-3``, ``0``,
``+2`` days from the due date) select the open bills (``ispb_notify.due_date_messages``), and each message is
written with the key ``due:<bill>:<offset>``: the later ticks of the day, a rerun or a second worker add
nothing. Set-based: one query for the bills and their customers, rendering in Python, one insert per batch.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ispb_billing import Money, format_money
from ispb_notify import (
    BillDue,
    Channel,
    DueDateRule,
    Expiring,
    ExpiryRule,
    InvalidPhoneNumber,
    count_sms,
    due_date_messages,
    expiration_messages,
    normalise_msisdn,
    render,
)
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.notify.events import templates
from ispb_platform.notify.outbox import enqueue

_BILLS = """
SELECT b.id, b.customer_id, b.due_date, b.total_minor - b.paid_minor AS due_minor, c.code, c.name, c.phone,
       p.name AS package
FROM bill b JOIN customer c ON c.id = b.customer_id LEFT JOIN package p ON p.id = c.package_id
WHERE b.kind = 'invoice' AND b.status = 'open' AND b.due_date = ANY($1::date[]) AND c.status <> 'disabled'
"""


async def due_date_reminders(ctx: JobContext) -> Counts:
    tenant = ctx.require_tenant()
    local_now = ctx.now.astimezone(ZoneInfo(tenant.timezone))
    async with ctx.db.tenant(tenant) as scope:
        connection = scope.connection
        schedule = await connection.fetchrow("SELECT send_time, channel FROM notify_schedule WHERE id = 1")
        if schedule is None or (ctx.today == local_now.date() and local_now.time() < schedule["send_time"]):
            return {"queued": 0, "before_send_time": 1}
        rules = [
            DueDateRule(r["offset_days"])
            for r in await connection.fetch(
                "SELECT offset_days FROM notify_rule WHERE kind = 'due_date' AND enabled ORDER BY offset_days"
            )
        ]
        if not rules:
            return {"queued": 0, "no_rules": 1}
        due_dates: list[date] = sorted({ctx.today - timedelta(days=rule.offset_days) for rule in rules})
        rows = {r["id"]: r for r in await connection.fetch(_BILLS, due_dates)}
        bills = [
            BillDue(r["id"], r["customer_id"], r["due_date"], str(r["due_minor"]))
            for r in rows.values()
            if r["due_minor"] > 0
        ]
        messages = due_date_messages(bills, rules, ctx.today)
        texts = await templates(connection)
        operator = await connection.fetchrow("SELECT name, phone FROM platform.tenant WHERE id = $1", tenant.id)
        channel = Channel(schedule["channel"])
        keys, customers, addresses, bodies, segments = [], [], [], [], []
        for message in messages:
            bill = rows[message.bill_id]
            try:
                address = normalise_msisdn(bill["phone"])
            except InvalidPhoneNumber:
                continue  # a mistyped phone: no reminder, and the others still go
            amount = format_money(Money(int(bill["due_minor"]), tenant.currency), symbol=False)
            body = render(
                texts[message.rule.template_key],
                {
                    "customer_name": bill["name"],
                    "customer_id": bill["code"],
                    "package": bill["package"] or "",
                    "amount_due": f"{amount} {tenant.currency}",
                    "due_date": bill["due_date"].isoformat(),
                    "operator_name": operator["name"] if operator else tenant.name,
                    "operator_phone": operator["phone"] if operator else "",
                    "portal_link": f"/portal/{tenant.slug}/",
                },
            )
            keys.append(message.key)
            customers.append(message.customer_id)
            addresses.append(address)
            bodies.append(body)
            segments.append(max(count_sms(body).segments, 1) if channel is Channel.SMS else 1)
        inserted = await connection.fetch(
            "INSERT INTO outbox (key, customer_id, channel, to_address, body, segments, cause)"
            " SELECT k, c, $6, t, b, s, 'due_date' FROM unnest($1::text[], $2::int[], $3::text[], $4::text[],"
            " $5::int[]) AS u(k, c, t, b, s) ON CONFLICT (key) DO NOTHING RETURNING id",
            keys,
            customers,
            addresses,
            bodies,
            segments,
            channel.value,
        )
    return {"queued": len(inserted), "already_queued": len(messages) - len(inserted)}


_EXPIRING = """
SELECT c.id, c.code, c.name, c.phone, p.name AS package, a.billed_through
FROM customer c
JOIN customer_account a ON a.customer_id = c.id
JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
LEFT JOIN package p ON p.id = c.package_id
WHERE bp.cycle = 'daily' AND c.status = 'active' AND a.billed_through BETWEEN $1 AND $2
"""


async def expiration_notices(ctx: JobContext) -> Counts:
    """``notify.expiration``: notices before a prepaid (daily-cycle) customer's paid time runs out.

    A customer's service runs until the end of ``billed_through`` in the operator's time zone. Rules are leads
    (days and hours before that moment); from the send time on, every notice whose moment fell within the last
    day is queued under ``expiry:<customer>:<moment>:<lead>``, so hourly ticks and reruns add nothing.
    """
    tenant = ctx.require_tenant()
    zone = ZoneInfo(tenant.timezone)
    local_now = ctx.now.astimezone(zone)
    async with ctx.db.tenant(tenant) as scope:
        connection = scope.connection
        schedule = await connection.fetchrow("SELECT send_time, channel FROM notify_schedule WHERE id = 1")
        if schedule is None or local_now.time() < schedule["send_time"]:
            return {"queued": 0, "before_send_time": 1}
        rules = [
            ExpiryRule(r["offset_days"], r["before_hours"])
            for r in await connection.fetch(
                "SELECT offset_days, before_hours FROM notify_rule WHERE kind = 'expiration' AND enabled"
            )
        ]
        if not rules:
            return {"queued": 0, "no_rules": 1}
        horizon = max(rule.lead for rule in rules)
        rows = {
            r["id"]: r
            for r in await connection.fetch(
                _EXPIRING, ctx.today - timedelta(days=2), ctx.today + timedelta(days=horizon.days + 2)
            )
        }
        ends = {
            customer_id: datetime.combine(row["billed_through"] + timedelta(days=1), datetime.min.time(), zone)
            for customer_id, row in rows.items()
        }
        messages = expiration_messages(
            [Expiring(customer_id, end) for customer_id, end in ends.items()], rules, local_now
        )
        texts = await templates(connection)
        operator = await connection.fetchrow("SELECT name, phone FROM platform.tenant WHERE id = $1", tenant.id)
        channel = Channel(schedule["channel"])
        queued = 0
        for message in messages:
            row = rows[message.customer_id]
            body = render(
                texts["expiration"],
                {
                    "customer_name": row["name"],
                    "customer_id": row["code"],
                    "package": row["package"] or "",
                    "expiry_date": ends[message.customer_id].strftime("%Y-%m-%d %H:%M"),
                    "operator_name": operator["name"] if operator else tenant.name,
                    "operator_phone": operator["phone"] if operator else "",
                    "portal_link": f"/portal/{tenant.slug}/",
                },
            )
            added = await enqueue(
                connection,
                key=message.key,
                customer_id=message.customer_id,
                channel=channel,
                to=row["phone"],
                body=body,
                cause="expiration",
            )
            queued += added is not None
    return {"queued": queued, "already_queued": len(messages) - queued}


async def low_sms_balance(ctx: JobContext) -> Counts:
    """``notify.low_sms_balance`` (daily): tell the operator, once a day, that its SMS credit is below its
    threshold: a message to the operator's phone (while credit lasts) and a notice in the panel."""
    tenant = ctx.require_tenant()
    async with ctx.db.tenant(tenant) as scope:
        connection = scope.connection
        row = await connection.fetchrow(
            "UPDATE platform.tenant SET sms_low_alerted_on = $2 WHERE id = $1 AND sms_credit < sms_low_threshold"
            " AND (sms_low_alerted_on IS NULL OR sms_low_alerted_on < $2) RETURNING sms_credit, phone, name",
            tenant.id,
            ctx.today,
        )
        if row is None:
            return {"alerted": 0}
        if row["phone"]:
            await enqueue(
                connection,
                key=f"lowcredit:{ctx.today.isoformat()}",
                customer_id=None,
                channel=Channel.SMS,
                to=row["phone"],
                body=f"ISPB: {row['name']} has {row['sms_credit']} SMS left. Buy more so reminders keep going out.",
                cause="sms.low_balance",
            )
    return {"alerted": 1}
