"""Reminders: due-date reminders and expiration notices at the operator's send time, and the low-credit alert.

The entry points the schedule runs are in ``notify.jobs``. Due-date reminders go once per (bill, rule): the job
ticks hourly; before the tenant's local send time it does nothing, after it the rules (``-3``, ``0``,
``+2`` days from the due date) select the open bills (``ispb_notify.due_date_messages``), and each message is
written with the key ``due:<bill>:<offset>``: the later ticks of the day, a rerun or a second worker add
nothing. Set-based, so SQL: one query for the bills and their customers (or the expiring customers), rendering in
Python, one insert per batch. The settings (rules, send time, texts) come from ``notify.queries``.
"""

from dataclasses import dataclass
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
from ispb_platform.jobs.job import Counts
from ispb_platform.notify import queries
from ispb_platform.notify.events import date_text, expiry_text, operator_phone
from ispb_platform.notify.outbox import enqueue
from ispb_tenants import Database, TenantRef

_BILLS = """
SELECT b.id, b.customer_id, b.due_date, b.total_minor - b.paid_minor AS due_minor, c.code, c.name, c.phone,
       p.name AS package
FROM bill b JOIN customer c ON c.id = b.customer_id LEFT JOIN package p ON p.id = c.package_id
WHERE b.kind = 'invoice' AND b.status = 'open' AND b.due_date = ANY($1::date[]) AND c.status <> 'disabled'
"""
# One insert for the whole day's reminders; the key makes a rerun add nothing.
_QUEUE_DUE = """
INSERT INTO outbox (key, customer_id, channel, to_address, body, segments, cause)
SELECT k, c, $6, t, b, s, 'due_date' FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[])
    AS u(k, c, t, b, s)
ON CONFLICT (key) DO NOTHING RETURNING id
"""


@dataclass(frozen=True)
class _Sender:
    """The operator's texts and contact details, which every reminder of a run shares."""

    tenant: TenantRef
    texts: dict[str, str]
    operator: queries.OperatorContact | None

    def render(self, key: str, values: dict[str, str]) -> str:
        return render(
            self.texts[key],
            values
            | {
                "operator_name": self.operator.name if self.operator else self.tenant.name,
                "operator_phone": operator_phone(self.operator.phone if self.operator else ""),
                "portal_link": f"/portal/{self.tenant.slug}/",
            },
        )


async def queue_due_date_reminders(db: Database, tenant: TenantRef, *, today: date, now: datetime) -> Counts:
    """Queue the due-date reminders ``tenant``'s rules give for ``today``, from its send time on."""
    local_now = now.astimezone(ZoneInfo(tenant.timezone))
    async with db.tenant(tenant) as scope:
        schedule = await queries.schedule()
        if schedule is None or (today == local_now.date() and local_now.time() < schedule.send_time):
            return {"queued": 0, "before_send_time": 1}
        rules = [DueDateRule(rule.offset_days) for rule in await queries.due_date_rules() if rule.enabled]
        if not rules:
            return {"queued": 0, "no_rules": 1}
        due_dates: list[date] = sorted({today - timedelta(days=rule.offset_days) for rule in rules})
        rows = {r["id"]: r for r in await scope.connection.fetch(_BILLS, due_dates)}
        bills = [
            BillDue(r["id"], r["customer_id"], r["due_date"], str(r["due_minor"]))
            for r in rows.values()
            if r["due_minor"] > 0
        ]
        messages = due_date_messages(bills, rules, today)
        sender = _Sender(tenant, await queries.templates(), await queries.operator_contact(tenant.id))
        channel = Channel(schedule.channel)
        keys, customers, addresses, bodies, segments = [], [], [], [], []
        for message in messages:
            bill = rows[message.bill_id]
            try:
                address = normalise_msisdn(bill["phone"])
            except InvalidPhoneNumber:
                continue  # a mistyped phone: no reminder, and the others still go
            amount = format_money(Money(int(bill["due_minor"]), tenant.currency), symbol=False)
            values = {
                "customer_name": bill["name"],
                "customer_id": bill["code"],
                "package": bill["package"] or "",
                "amount_due": f"{amount} {tenant.currency}",
                "due_date": date_text(bill["due_date"]),
            }
            body = sender.render(message.rule.template_key, values)
            keys.append(message.key)
            customers.append(message.customer_id)
            addresses.append(address)
            bodies.append(body)
            segments.append(max(count_sms(body).segments, 1) if channel is Channel.SMS else 1)
        inserted = await scope.connection.fetch(_QUEUE_DUE, keys, customers, addresses, bodies, segments, channel.value)
    return {"queued": len(inserted), "already_queued": len(messages) - len(inserted)}


_EXPIRING = """
SELECT c.id, c.code, c.name, c.phone, p.name AS package, a.billed_through
FROM customer c
JOIN customer_account a ON a.customer_id = c.id
JOIN billing_profile bp ON bp.id = COALESCE(c.billing_profile_id, (SELECT id FROM billing_profile WHERE is_default))
LEFT JOIN package p ON p.id = c.package_id
WHERE bp.cycle = 'daily' AND c.status = 'active' AND a.billed_through BETWEEN $1 AND $2
"""


async def queue_expiration_notices(db: Database, tenant: TenantRef, *, today: date, now: datetime) -> Counts:
    """Notices before a prepaid (daily-cycle) customer's paid time runs out.

    A customer's service runs until the end of ``billed_through`` in the operator's time zone. Rules are leads
    (days and hours before that moment); from the send time on, every notice whose moment fell within the last
    day is queued under ``expiry:<customer>:<moment>:<lead>``, so hourly ticks and reruns add nothing.
    """
    zone = ZoneInfo(tenant.timezone)
    local_now = now.astimezone(zone)
    async with db.tenant(tenant) as scope:
        schedule = await queries.schedule()
        if schedule is None or local_now.time() < schedule.send_time:
            return {"queued": 0, "before_send_time": 1}
        rules = [ExpiryRule(rule.offset_days, rule.before_hours) for rule in await queries.expiration_rules()]
        if not rules:
            return {"queued": 0, "no_rules": 1}
        horizon = max(rule.lead for rule in rules)
        window = (today - timedelta(days=2), today + timedelta(days=horizon.days + 2))
        rows = {r["id"]: r for r in await scope.connection.fetch(_EXPIRING, *window)}
        ends = {
            customer_id: datetime.combine(row["billed_through"] + timedelta(days=1), datetime.min.time(), zone)
            for customer_id, row in rows.items()
        }
        messages = expiration_messages(
            [Expiring(customer_id, end) for customer_id, end in ends.items()], rules, local_now
        )
        sender = _Sender(tenant, await queries.templates(), await queries.operator_contact(tenant.id))
        channel = Channel(schedule.channel)
        queued = 0
        for message in messages:
            row = rows[message.customer_id]
            values = {
                "customer_name": row["name"],
                "customer_id": row["code"],
                "package": row["package"] or "",
                "expiry_date": expiry_text(row["billed_through"]),  # as every other message names it
            }
            added = await enqueue(
                scope.connection,
                key=message.key,
                customer_id=message.customer_id,
                channel=channel,
                to=row["phone"],
                body=sender.render("expiration", values),
                cause="expiration",
            )
            queued += added is not None
    return {"queued": queued, "already_queued": len(messages) - queued}


# One statement decides and records "alerted today", so two workers or a rerun alert once.
_CLAIM_LOW_CREDIT_ALERT = """
UPDATE platform.tenant SET sms_low_alerted_on = $2
WHERE id = $1 AND sms_credit < sms_low_threshold AND (sms_low_alerted_on IS NULL OR sms_low_alerted_on < $2)
RETURNING sms_credit, phone, name
"""


async def alert_low_sms_credit(db: Database, tenant: TenantRef, *, today: date) -> Counts:
    """Tell the operator, once a day, that its SMS credit is below its threshold: a message to the operator's
    phone (while credit lasts) and a notice in the panel."""
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(_CLAIM_LOW_CREDIT_ALERT, tenant.id, today)
        if row is None:
            return {"alerted": 0}
        if row["phone"]:
            await enqueue(
                scope.connection,
                key=f"lowcredit:{today.isoformat()}",
                customer_id=None,
                channel=Channel.SMS,
                to=row["phone"],
                body=f"ISPB: {row['name']} has {row['sms_credit']} SMS left. Buy more so reminders keep going out.",
                cause="sms.low_balance",
            )
    return {"alerted": 1}
