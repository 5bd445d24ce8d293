"""Event messages: domain events (written with their cause) become outbox rows, once each.

Billing and service control write ``domain_event`` rows in their own transactions (``payment.received``,
``customer.suspended``, ...). Here each pending event is turned into a message when the operator enabled that
event, with its template and the customer's values, under the key ``event:<id>``; the event is marked notified
in the same transaction, enabled or not, so switching an event on later never sends old news.

Set-based: pending events are claimed in batches (``FOR UPDATE SKIP LOCKED``, so two senders never turn the
same event into two messages) with SQL; the settings and texts come from ``notify.queries``.
"""

import json
from datetime import date
from typing import Any

from ispb_billing import Money, format_money
from ispb_notify import Channel, Event, TemplateProblem, render
from ispb_platform.notify import queries
from ispb_platform.notify.outbox import MASK, PrivateText, enqueue
from ispb_platform.secrets_box import Binding, Purpose, SealError, reveal
from ispb_tenants import Connection, Database, TenantRef

BATCH = 500
NO_PASSWORD = "ask us"  # noqa: S105 (what the welcome SMS says when ISPB does not hold the password)


async def customer_values(
    connection: Connection, tenant: TenantRef, customer_id: int, secret_key: str = ""
) -> dict[str, Any] | None:
    row = await connection.fetchrow(
        "SELECT c.code, c.name, c.phone, c.pppoe_username, c.pppoe_password_sealed, p.name AS package,"
        " coalesce(a.balance_minor, 0) AS balance, a.billed_through,"
        " t.name AS operator_name, t.phone AS operator_phone FROM customer c"
        " LEFT JOIN package p ON p.id = c.package_id LEFT JOIN customer_account a ON a.customer_id = c.id"
        " JOIN platform.tenant t ON t.id = $2 WHERE c.id = $1",
        customer_id,
        tenant.id,
    )
    if row is None:
        return None
    return {
        "customer_name": row["name"],
        "customer_id": row["code"],
        "package": row["package"] or "",
        "balance": balance_text(int(row["balance"]), tenant.currency),
        "amount_due": format_money(Money(max(int(row["balance"]), 0), tenant.currency), symbol=False)
        + f" {tenant.currency}",
        "operator_name": row["operator_name"],
        "operator_phone": operator_phone(row["operator_phone"]),
        "portal_link": f"/portal/{tenant.slug}/",
        "username": row["pppoe_username"] or row["code"],
        "password": _password(row["pppoe_password_sealed"], secret_key, tenant.id, customer_id),
        "expiry_date": expiry_text(row["billed_through"]),
        "phone": row["phone"],
    }


def date_text(day: date) -> str:
    """A date as a customer reads it: "8 Dec 2026" (day first, as in Bangladesh; never "2026-12-08")."""
    return f"{day.day} {day:%b %Y}"


def expiry_text(billed_through: date | None) -> str:
    """The last day the customer has paid for (service runs to its end): a validity package's expiry is the end
    of its paid validity, a monthly customer's the end of the billed month. The expiration notices say the
    same (``reminders.py``). Before the first bill there is no date yet, and the text says so in words."""
    return date_text(billed_through) if billed_through else "the end of your first billing period"


def operator_phone(phone: str | None) -> str:
    """The operator's support phone; "us" when it has none, so "Call {{ operator_phone }}." still reads."""
    return phone or "us"


def _password(sealed: str | None, secret_key: str, tenant_id: int, customer_id: int) -> str:
    """The PPPoE password for the welcome message, or a pointer to the operator when ISPB does not hold it."""
    if not sealed or not secret_key:
        return NO_PASSWORD
    try:
        return reveal(secret_key, sealed, Binding(tenant_id, Purpose.CUSTOMER_PPPOE_PASSWORD, customer_id))
    except SealError:
        return NO_PASSWORD


def masked(template: str, values: dict[str, Any], secrets: dict[str, str]) -> tuple[str, str]:
    """The message as shown (each of ``secrets`` replaced by `MASK`) and as sent (``values | secrets``).

    Rendered twice rather than searched and replaced: a password that is also a common word must not mask
    that word elsewhere in the text, and a secret the template does not use leaves the two equal."""
    return render(template, values | dict.fromkeys(secrets, MASK)), render(template, values | secrets)


def private_text(shown: str, sent: str, secret_key: str, tenant: TenantRef) -> PrivateText | None:
    """What `enqueue` seals for the gateway when the shown text masks something, else None."""
    return PrivateText(sent, secret_key, tenant.id) if sent != shown else None


def _event_values(name: str, payload: dict[str, Any], currency: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if name == Event.PAYMENT_RECEIVED.value and "amount_minor" in payload:
        values["payment_amount"] = (
            format_money(Money(int(payload["amount_minor"]), currency), symbol=False) + f" {currency}"
        )
    if name == Event.CUSTOMER_SUSPENDED.value:
        values["reason"] = _suspension_reason(payload, currency)
    if name == Event.FUP_APPLIED.value:
        values["fup_speed"] = str(payload.get("fup_speed", ""))
        reset = payload.get("reset_date")
        values["reset_date"] = date_text(date.fromisoformat(reset)) if isinstance(reset, str) else ""
    return values


async def _package_names(connection: Connection, payload: dict[str, Any]) -> dict[str, str]:
    """A package change's old and new package by name: the panel's event carries the ids (older events only
    the ids), which a customer must never read ("your package changed from 3 to 5")."""
    names: dict[str, str] = {}
    for key, field in (("old_package", "from"), ("new_package", "to")):
        name = payload.get(f"{field}_name")
        if not name and isinstance(payload.get(field), int):
            name = await connection.fetchval("SELECT name FROM package WHERE id = $1", payload[field])
        names[key] = str(name or "no package")
    return names


def balance_text(balance_minor: int, currency: str) -> str:
    """A balance as a customer reads it: "1,000.00 BDT due", "4,000.00 BDT in advance" (never a minus sign, which
    reads as a debt when it is credit), "0.00 BDT"."""
    amount = format_money(Money(abs(balance_minor), currency), symbol=False) + f" {currency}"
    if balance_minor > 0:
        return f"{amount} due"
    if balance_minor < 0:
        return f"{amount} in advance"
    return amount


def _suspension_reason(payload: dict[str, Any], currency: str) -> str:
    """What the customer reads after "your service is suspended:": the overdue amount, never the decision's own
    wording (internal bill ids, rule text: it stays in the Suspension Log) nor an operator's private note:
    "Dear Karim, your service is suspended: 500.00 BDT is overdue. Call 09610-100200. Dhaka Fiber Net".
    """
    amount = int(payload.get("amount_due_minor") or 0)
    if amount > 0:
        return f"{format_money(Money(amount, currency), symbol=False)} {currency} is overdue"
    return "your account is on hold"


async def events_to_outbox(db: Database, tenant: TenantRef, secret_key: str = "") -> int:
    """Turn pending domain events into messages; returns how many messages were queued."""
    queued = 0
    while True:
        async with db.tenant(tenant) as scope:
            connection = scope.connection
            events = await connection.fetch(
                "SELECT id, name, customer_id, payload FROM domain_event WHERE notified_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                BATCH,
            )
            if not events:
                return queued
            settings = await queries.event_settings()
            texts = await queries.templates()
            for event in events:
                setting = settings.get(event["name"])
                if setting is not None and setting.enabled and event["customer_id"] is not None:
                    values = await customer_values(connection, tenant, event["customer_id"], secret_key)
                    payload = json.loads(event["payload"]) if isinstance(event["payload"], str) else event["payload"]
                    if values is not None:
                        values |= _event_values(event["name"], payload, tenant.currency)
                        password = values["password"]
                        secret = {"password": password} if password != NO_PASSWORD else {}
                        if event["name"] == Event.PACKAGE_CHANGED.value:
                            values |= await _package_names(connection, payload)
                        try:
                            body, sent = masked(texts.get(event["name"], ""), values, secret)
                        except TemplateProblem as problem:  # checked at save time; a stored default changed
                            body = sent = ""
                            await connection.execute(
                                "UPDATE domain_event SET payload = payload"
                                " || jsonb_build_object('notify_error', $2::text) WHERE id = $1",
                                event["id"],
                                str(problem),
                            )
                        if body:
                            added = await enqueue(
                                connection,
                                key=f"event:{event['id']}",
                                customer_id=event["customer_id"],
                                channel=Channel(setting.channel),
                                to=values["phone"],
                                body=body,
                                cause=event["name"],
                                private=private_text(body, sent, secret_key, tenant),
                            )
                            queued += added is not None
                await connection.execute("UPDATE domain_event SET notified_at = now() WHERE id = $1", event["id"])
