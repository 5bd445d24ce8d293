"""Reads and writes of the notification settings and the Sent Messages log, returning typed rows.

Gateways, templates, event switches, reminder rules, the send time and the outbox list are plain CRUD and
filters: Piccolo's query builder, run in the caller's open tenant scope (``db.tenant(...)`` or
``@in_tenant_scope``). The set-based work keeps SQL where it is: the reminder selection (``reminders.py``),
the events' turn into messages (``events.py``) and the sender's claim and outcomes (``sender.py``).
"""

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Where
from piccolo.query.functions.aggregate import Count
from piccolo.querystring import QueryString

from ispb_notify import DEFAULT_TEMPLATES
from ispb_tenants.tables import (
    NotifyEvent,
    NotifyGateway,
    NotifyRule,
    NotifySchedule,
    NotifyTemplate,
    Outbox,
    Tenant,
)

SENT_LIMIT = 200
"""The Sent Messages page shows the newest messages, up to this many."""
_SCHEDULE_ID = 1  # notify_schedule holds one row (CHECK id = 1)
_NOW = QueryString("now()")


def _tenant_is(tenant_id: int) -> Where:
    # ``_meta.primary_key`` is Piccolo's implicit ``id`` column, which the table classes do not declare
    return Tenant._meta.primary_key == tenant_id


def _the_schedule() -> Where:
    return NotifySchedule._meta.primary_key == _SCHEDULE_ID


@dataclass(frozen=True)
class GatewaySettings:
    """A channel's gateway as stored; ``secret_sealed`` is opened only by whoever sends."""

    channel: str
    kind: str
    config: dict[str, Any]
    secret_sealed: str | None
    enabled: bool


@dataclass(frozen=True)
class EventSetting:
    event: str
    enabled: bool
    channel: str


@dataclass(frozen=True)
class Rule:
    """A reminder rule: a due-date offset in days, or an expiration lead in days and hours."""

    offset_days: int
    before_hours: int
    enabled: bool


@dataclass(frozen=True)
class Schedule:
    send_time: time
    channel: str


@dataclass(frozen=True)
class SmsCredit:
    sms_credit: int
    sms_low_threshold: int


@dataclass(frozen=True)
class OperatorContact:
    name: str
    phone: str


@dataclass(frozen=True)
class SentMessage:
    """One outbox row for the Sent Messages page, with its customer's code and name (None for none)."""

    id: int
    customer_id: int | None
    code: str | None
    name: str | None
    channel: str
    to_address: str
    body: str
    cause: str
    status: str
    attempts: int
    last_error: str
    provider_message_id: str | None
    created_at: datetime


async def templates() -> dict[str, str]:
    """The operator's message texts over the defaults, by key (``due_date``, ``expiration``, event names)."""
    stored = await NotifyTemplate.select(NotifyTemplate.key, NotifyTemplate.body)
    return {**DEFAULT_TEMPLATES, **{row["key"]: row["body"] for row in stored}}


async def save_template(key: str, body: str) -> None:
    await NotifyTemplate.insert(NotifyTemplate(key=key, body=body)).on_conflict(
        action="DO UPDATE", target=NotifyTemplate.key, values=[NotifyTemplate.body, (NotifyTemplate.updated_at, _NOW)]
    )


async def event_settings() -> dict[str, EventSetting]:
    rows = await NotifyEvent.select(NotifyEvent.event, NotifyEvent.enabled, NotifyEvent.channel)
    return {row["event"]: EventSetting(**row) for row in rows}


async def save_event_setting(event: str, *, enabled: bool, channel: str) -> None:
    await NotifyEvent.insert(NotifyEvent(event=event, enabled=enabled, channel=channel)).on_conflict(
        action="DO UPDATE", target=NotifyEvent.event, values=[NotifyEvent.enabled, NotifyEvent.channel]
    )


_RULE_COLUMNS = (NotifyRule.offset_days, NotifyRule.before_hours, NotifyRule.enabled)


async def due_date_rules() -> list[Rule]:
    """Every due-date rule, enabled or not, earliest offset first."""
    rows = await NotifyRule.select(*_RULE_COLUMNS).where(NotifyRule.kind == "due_date").order_by(NotifyRule.offset_days)
    return [Rule(**row) for row in rows]


async def expiration_rules() -> list[Rule]:
    """The enabled expiration leads, longest first."""
    rows = (
        await NotifyRule.select(*_RULE_COLUMNS)
        .where((NotifyRule.kind == "expiration") & NotifyRule.enabled.eq(True))
        .order_by(NotifyRule.offset_days, NotifyRule.before_hours, ascending=False)
    )
    return [Rule(**row) for row in rows]


async def replace_rules(kind: str, leads: list[tuple[int, int]]) -> None:
    """Make ``kind``'s rules exactly ``leads`` (offset days, before hours), each enabled."""
    await NotifyRule.delete().where(NotifyRule.kind == kind)
    if leads:
        await NotifyRule.insert(*(NotifyRule(kind=kind, offset_days=d, before_hours=h) for d, h in leads))


async def schedule() -> Schedule | None:
    row = await NotifySchedule.select(NotifySchedule.send_time, NotifySchedule.channel).where(_the_schedule()).first()
    return Schedule(**row) if row else None


async def set_send_time(send_time: time) -> None:
    await NotifySchedule.update({NotifySchedule.send_time: send_time}).where(_the_schedule())


def _gateway(row: dict[str, Any]) -> GatewaySettings:
    return GatewaySettings(
        channel=row["channel"],
        kind=row["kind"],
        config=dict(row["config"] or {}),
        secret_sealed=row["secret_sealed"],
        enabled=row["enabled"],
    )


_GATEWAY_COLUMNS = (
    NotifyGateway.channel,
    NotifyGateway.kind,
    NotifyGateway.config,
    NotifyGateway.secret_sealed,
    NotifyGateway.enabled,
)


async def gateway(channel: str) -> GatewaySettings | None:
    row = (
        await NotifyGateway.select(*_GATEWAY_COLUMNS)
        .where(NotifyGateway.channel == channel)
        .output(load_json=True)
        .first()
    )
    return _gateway(row) if row else None


async def enabled_gateways() -> list[GatewaySettings]:
    rows = await NotifyGateway.select(*_GATEWAY_COLUMNS).where(NotifyGateway.enabled.eq(True)).output(load_json=True)
    return [_gateway(row) for row in rows]


async def save_gateway(
    channel: str, *, kind: str, config: dict[str, Any], secret_sealed: str | None, enabled: bool
) -> None:
    """Insert or replace a channel's gateway; ``secret_sealed=None`` keeps the stored secret."""
    keep_secret = secret_sealed is None
    updated: list[Column | tuple[Column, Any]] = [
        NotifyGateway.kind,
        NotifyGateway.config,
        NotifyGateway.enabled,
        (NotifyGateway.updated_at, _NOW),
    ]
    if not keep_secret:
        updated.append(NotifyGateway.secret_sealed)
    row = NotifyGateway(channel=channel, kind=kind, config=config, secret_sealed=secret_sealed, enabled=enabled)
    await NotifyGateway.insert(row).on_conflict(action="DO UPDATE", target=NotifyGateway.channel, values=updated)


async def sms_credit(tenant_id: int) -> SmsCredit | None:
    row = await Tenant.select(Tenant.sms_credit, Tenant.sms_low_threshold).where(_tenant_is(tenant_id)).first()
    return SmsCredit(**row) if row else None


async def operator_contact(tenant_id: int) -> OperatorContact | None:
    """The operator's name and phone, for the texts' ``operator_name`` and ``operator_phone``."""
    row = await Tenant.select(Tenant.name, Tenant.phone).where(_tenant_is(tenant_id)).first()
    return OperatorContact(**row) if row else None


async def sent_messages(status: str | None, *, limit: int = SENT_LIMIT) -> list[SentMessage]:
    """The newest outbox rows, of one status or all."""
    query = Outbox.select(
        Outbox.id,
        Outbox.customer.as_alias("customer_id"),
        Outbox.customer._.code.as_alias("code"),
        Outbox.customer._.name.as_alias("name"),
        Outbox.channel,
        Outbox.to_address,
        Outbox.body,
        Outbox.cause,
        Outbox.status,
        Outbox.attempts,
        Outbox.last_error,
        Outbox.provider_message_id,
        Outbox.created_at,
    )
    if status:
        query = query.where(Outbox.status == status)
    rows = await query.order_by(Outbox.id, ascending=False).limit(limit)
    return [SentMessage(**row) for row in rows]


async def outbox_counts() -> dict[str, int]:
    """How many outbox rows are in each status."""
    rows = await Outbox.select(Outbox.status, Count(alias="n")).group_by(Outbox.status)
    return {row["status"]: row["n"] for row in rows}
