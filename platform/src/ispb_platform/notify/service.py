"""The notification settings' use cases: what each page shows, saving it (with its activity log line), the
gateway's test message and the Sent Messages list.

Saves run in the handler's tenant scope (``@in_tenant_scope``). The test message is the exception: it talks
to the operator's gateway, which may take seconds, so it opens the scope itself for the read and sends after
the transaction has ended.
"""

import secrets
from dataclasses import dataclass
from typing import Any

from ispb_notify import Event, GatewayError, HttpSmsGateway, OutboundPolicy, OutboundRefused, OutgoingMessage
from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.notify import queries
from ispb_platform.notify.forms import (
    DueDateDraft,
    ExpirationDraft,
    allowed_variables,
    lead_text,
    offsets_text,
    preview,
)
from ispb_platform.notify.gateways import gateway_binding, http_sms_config
from ispb_platform.notify.queries import GatewaySettings, Schedule, SentMessage, SmsCredit
from ispb_platform.payments.online.sms_credit import SmsOffer
from ispb_platform.payments.online.sms_credit import offer as sms_offer
from ispb_platform.secrets_box import SealError, reveal, seal
from ispb_tenants import Database, TenantRef, TenantScope


@dataclass(frozen=True)
class Actor:
    """Who saves, for the activity log."""

    principal: Principal
    ip: str


def event_row(event: str, *, enabled: bool, channel: str, body: str) -> dict[str, Any]:
    """One event's form on the Event SMS page."""
    return {
        "event": event,
        "enabled": enabled,
        "channel": channel,
        "body": body,
        "preview": preview(body, event),
        "variables": sorted(allowed_variables(event)),
    }


async def event_rows() -> list[dict[str, Any]]:
    """Every event of the catalogue with its switch, channel and text."""
    settings = await queries.event_settings()
    texts = await queries.templates()
    rows = []
    for event in Event:
        setting = settings.get(event.value)
        enabled = bool(setting and setting.enabled)
        channel = setting.channel if setting else "sms"
        rows.append(event_row(event.value, enabled=enabled, channel=channel, body=texts[event.value]))
    return rows


async def save_event(db: TenantScope, actor: Actor, event: Event, *, enabled: bool, channel: str, body: str) -> None:
    await queries.save_event_setting(event.value, enabled=enabled, channel=channel)
    await queries.save_template(event.value, body)
    await record_activity(
        db,
        actor.principal,
        "notify.event_saved",
        object_type="notify",
        object_id=event.value,
        summary=f"Event message {event.value}: {'on' if enabled else 'off'}",
        ip=actor.ip,
    )


@dataclass(frozen=True)
class DueDateSettings:
    rules: list[queries.Rule]
    offsets: str
    """The enabled rules' offsets, as the form writes them."""
    schedule: Schedule | None
    body: str


async def due_date_settings(body: str = "") -> DueDateSettings:
    """The stored rules and send time, with ``body`` (what was typed) or else the stored text."""
    rules = await queries.due_date_rules()
    text = body or (await queries.templates())["due_date"]
    offsets = offsets_text([rule.offset_days for rule in rules if rule.enabled])
    return DueDateSettings(rules, offsets, await queries.schedule(), text)


async def save_due_date(db: TenantScope, actor: Actor, draft: DueDateDraft) -> None:
    await queries.replace_rules("due_date", [(offset, 0) for offset in draft.offsets])
    await queries.set_send_time(draft.send_time)
    await queries.save_template("due_date", draft.body)
    await record_activity(
        db,
        actor.principal,
        "notify.due_date_saved",
        object_type="notify",
        object_id="due_date",
        summary=f"Due date reminders at {draft.send_time:%H:%M}, days {draft.offsets}",
        ip=actor.ip,
    )


async def expiration_leads() -> str:
    """The enabled expiration leads, as the form writes them (``3d, 6h``)."""
    return ", ".join(lead_text(rule.offset_days, rule.before_hours) for rule in await queries.expiration_rules())


async def expiration_text(body: str = "") -> str:
    return body or (await queries.templates())["expiration"]


async def save_expiration(db: TenantScope, actor: Actor, draft: ExpirationDraft) -> None:
    await queries.replace_rules("expiration", draft.leads)
    await queries.save_template("expiration", draft.body)
    await record_activity(
        db,
        actor.principal,
        "notify.expiration_saved",
        object_type="notify",
        object_id="expiration",
        summary=f"Expiration notices {', '.join(lead_text(d, h) for d, h in draft.leads) or 'off'}",
        ip=actor.ip,
    )


@dataclass(frozen=True)
class GatewaySetup:
    sms: GatewaySettings | None
    whatsapp: GatewaySettings | None
    credit: SmsCredit | None
    sms_offer: SmsOffer


async def gateway_setup(tenant: TenantRef) -> GatewaySetup:
    return GatewaySetup(
        await queries.gateway("sms"),
        await queries.gateway("whatsapp"),
        await queries.sms_credit(tenant.id),
        await sms_offer(tenant.id),
    )


async def read_gateway_setup(database: Database, tenant: TenantRef) -> GatewaySetup:
    """`gateway_setup` in a short scope of its own, for a handler that holds none (the test message)."""
    async with database.tenant(tenant):
        return await gateway_setup(tenant)


@dataclass(frozen=True)
class GatewayChange:
    """A channel's gateway as the operator saves it; an empty ``secret`` keeps the stored one."""

    channel: str
    kind: str
    config: dict[str, Any]
    secret: str
    enabled: bool
    summary: str


async def save_gateway(db: TenantScope, actor: Actor, secret_key: str, change: GatewayChange) -> None:
    """Store a channel's gateway (the secret sealed with ``ISPB_SECRET_KEY`` for the tenant and channel) and
    log it."""
    binding = gateway_binding(db.tenant.id, change.channel)
    sealed = seal(secret_key, change.secret, binding) if change.secret else None
    await queries.save_gateway(
        change.channel, kind=change.kind, config=change.config, secret_sealed=sealed, enabled=change.enabled
    )
    await record_activity(
        db,
        actor.principal,
        "notify.gateway_saved",
        object_type="notify",
        object_id=change.channel,
        summary=change.summary,
        ip=actor.ip,
    )


async def gateway_url_problem(outbound: OutboundPolicy, url: str) -> str | None:
    """Why the platform may not send to ``url`` (a private, loopback or link-local address the administrator
    has not allowed), in the operator's words; None when it may. The client checks again on every connection:
    a name may resolve elsewhere later."""
    try:
        await outbound.check_url(url)
    except OutboundRefused as refused:
        return str(refused)
    return None


async def send_test_message(
    database: Database, tenant: TenantRef, secret_key: str, to: str, outbound: OutboundPolicy
) -> str | None:
    """Send one SMS now, outside the outbox, only where ``outbound`` allows; returns what to tell the operator,
    or None when there is no gateway to test. The gateway is read in its own short transaction and the message
    sent after it: a slow gateway must not hold a transaction open."""
    async with database.tenant(tenant):
        stored = await queries.gateway("sms")
    if stored is None:
        return None
    try:
        secret = (
            reveal(secret_key, stored.secret_sealed, gateway_binding(tenant.id, "sms")) if stored.secret_sealed else ""
        )
    except SealError as problem:
        return f"Not sent: the stored password or token cannot be opened ({problem}). Enter it again and save."
    gateway = HttpSmsGateway(http_sms_config(stored.config, secret), policy=outbound)  # its own client, closed below
    text = f"Test message from {tenant.name} (ISPB)"
    try:
        # a fresh reference each time: a de-duplicating gateway must not swallow a second test
        result = await gateway.send(OutgoingMessage(to=to, text=text, reference=f"test-{secrets.token_hex(6)}"))
        return f"Sent. The gateway answered: {result.raw[:200]}"
    except GatewayError as problem:
        return f"Not sent: {type(problem).__name__}: {problem}"
    finally:
        await gateway.aclose()


@dataclass(frozen=True)
class SentLog:
    messages: list[SentMessage]
    counts: dict[str, int]
    """Messages per status, over the whole outbox."""


async def sent_log(status: str) -> SentLog:
    """The newest messages (of one status, or all when ``status`` is empty) and the counts per status."""
    return SentLog(await queries.sent_messages(status or None), await queries.outbox_counts())
