"""``notify.due_date``: due-date reminders at the operator's send time, once per (bill, rule).

The job ticks hourly; before the tenant's local send time it does nothing, after it the rules (``-3``, ``0``,
``+2`` days from the due date) select the open bills (``ispb_notify.due_date_messages``), and each message is
written with the key ``due:<bill>:<offset>``: the later ticks of the day, a rerun or a second worker add
nothing. Set-based: one query for the bills and their customers, rendering in Python, one insert per batch.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ispb_billing import Money, format_money
from ispb_notify import BillDue, Channel, DueDateRule, count_sms, due_date_messages, normalise_msisdn, render
from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.notify.events import templates

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
            addresses.append(normalise_msisdn(bill["phone"]))
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
