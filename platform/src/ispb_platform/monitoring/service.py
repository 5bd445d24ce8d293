"""Monitoring use cases: save a check (its secret sealed for its row), test one now, and the models of the
dashboard and the status pages (current state, 90-day uptime bars, incidents in the operator's time zone)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ispb_monitor import CheckResult, DayUptime, Interval, history, overall
from ispb_monitor.checks import run_check
from ispb_notify import OutboundPolicy
from ispb_platform.monitoring import queries
from ispb_platform.monitoring.checks import usable
from ispb_platform.monitoring.forms import CheckDraft
from ispb_platform.monitoring.rounds import PLATFORM_TENANT_ID
from ispb_platform.monitoring.zabbix_sync import zabbix_binding
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Connection, Database, TenantRef

RECENT_DAYS = 14
"""How far back a status page lists ended incidents."""


async def save_check(
    connection: Connection, secret_key: str, tenant_id: int, draft: CheckDraft, check_id: int | None
) -> int:
    """Insert or update; raises ``queries.CheckNameTaken``. A typed secret is sealed for the check's row."""
    new = check_id is None
    row_id = await queries.next_check_id(connection) if check_id is None else check_id
    sealed = (
        seal(secret_key, draft.secret, Binding(tenant_id, Purpose.MONITOR_CHECK_SECRET, row_id))
        if draft.secret
        else None
    )
    await queries.save_check(connection, row_id, draft.fields, sealed, new=new)
    return row_id


async def test_now(
    db: Database, tenant: TenantRef | None, check_id: int, *, secret_key: str, outbound: OutboundPolicy
) -> tuple[dict[str, Any], CheckResult] | None:
    """Run one check now and return it with its result (nothing stored: the minute's round keeps the record).
    No transaction is held while the check waits for its answer."""
    now = datetime.now(UTC)
    if tenant is None:
        async with db.platform() as connection:
            found = await queries.check_to_run(connection, check_id, now, platform=True)
    else:
        async with db.tenant(tenant) as scope:
            found = await queries.check_to_run(scope.connection, check_id, now, platform=False)
    if found is None:
        return None
    check = queries.as_dict(found)
    made = usable(dict(found), secret_key, tenant.id if tenant is not None else PLATFORM_TENANT_ID)
    if isinstance(made, str):
        return check, CheckResult.down(made)
    return check, await run_check(made, policy=outbound)


def seal_zabbix_token(secret_key: str, tenant_id: int, token: str) -> str:
    return seal(secret_key, token, zabbix_binding(tenant_id))


# --- the status page ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    day: date
    level: str
    """A CSS class: none (no data), maintenance (planned work, no outage), full, high (≥ 99.9), mid (≥ 99),
    low (≥ 95), bad."""
    label: str


@dataclass(frozen=True)
class Component:
    id: int
    name: str
    state: str
    """up, degraded, down, maintenance, paused or unknown (no result yet)."""
    uptime: Decimal | None
    bars: list[Bar]
    kind: str = ""
    internal_name: str = ""


@dataclass(frozen=True)
class IncidentLine:
    name: str
    started: str
    ended: str | None
    duration: str
    cause: str


@dataclass(frozen=True)
class StatusPageModel:
    components: list[Component]
    overall: str
    """up (all up), degraded (some degraded or down), down (every component down) or unknown."""
    open_incidents: list[IncidentLine]
    recent_incidents: list[IncidentLine]
    updated: str
    zone: str


def _level(day: DayUptime) -> str:
    if day.maintenance_s > 0 and day.down_s == 0:
        return "maintenance"  # planned work and nothing else: shown as such, not as a perfect day
    if day.percent is None:
        return "none"
    if day.percent >= Decimal("100"):
        return "full"
    if day.percent >= Decimal("99.9"):
        return "high"
    if day.percent >= Decimal("99"):
        return "mid"
    return "low" if day.percent >= Decimal("95") else "bad"


def _duration(seconds: float) -> str:
    minutes = max(1, int(seconds // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes and not days else []
    return " ".join(parts) or "1 min"


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d %b %Y, %H:%M")


async def status_model(
    connection: Connection, zone: ZoneInfo, *, public_only: bool, now: datetime | None = None
) -> StatusPageModel:
    """What a status page shows (public: only checks with a public name, under that name)."""
    moment = now or datetime.now(UTC)
    today = moment.astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=89), datetime.min.time(), zone)
    checks, incidents, windows = await queries.history_inputs(connection, since, public_only=public_only)
    components = []
    for check in checks:
        mine = [Interval(i["started_at"], i["ended_at"]) for i in incidents if i["check_id"] == check["id"]]
        planned = [Interval(w["starts_at"], w["ends_at"]) for w in windows if w["check_id"] in (None, check["id"])]
        in_maintenance_now = any(p.start <= moment < (p.end or moment) for p in planned)
        days = (
            history(mine, planned, today=today, zone=zone, now=moment, monitored_from=check["monitored_since"])
            if check["monitored_since"] is not None
            else []
        )
        bars = []
        for offset in range(90):
            day = today - timedelta(days=89 - offset)
            found = days[offset] if days else DayUptime(day, 0, 0, 0, None)
            text = f"{day:%d %b}: " + (f"{found.percent}% up" if found.percent is not None else "no data")
            if found.maintenance_s:
                text += f", {found.maintenance_s // 60} min planned maintenance"
            bars.append(Bar(day, _level(found), text))
        state = check["shown"] or "unknown"
        if check["paused"]:
            state = "paused"
        elif in_maintenance_now and state != "down":
            state = "maintenance"
        name = check["public_name"] if public_only else check["name"]
        components.append(Component(int(check["id"]), name, state, overall(days), bars, check["kind"], check["name"]))
    lines_open: list[IncidentLine] = []
    lines_recent: list[IncidentLine] = []
    names = {c.id: c.name for c in components}
    for incident in await queries.incidents_since(
        connection, moment - timedelta(days=RECENT_DAYS), public_only=public_only
    ):
        name = names.get(incident["check_id"], incident["public_name"] if public_only else incident["name"])
        end = incident["ended_at"]
        line = IncidentLine(
            name=name,
            started=_local(incident["started_at"], zone),
            ended=_local(end, zone) if end is not None else None,
            duration=_duration(((end or moment) - incident["started_at"]).total_seconds()),
            cause="" if public_only else str(incident["cause"]),
        )
        (lines_recent if end is not None else lines_open).append(line)
    active = [c.state for c in components if c.state not in ("paused",)]
    if not active:
        summary = "unknown"
    elif all(s == "down" for s in active):
        summary = "down"
    elif any(s in ("down", "degraded") for s in active):
        summary = "degraded"
    elif all(s in ("up", "maintenance") for s in active):
        summary = "up"
    else:
        summary = "unknown"
    return StatusPageModel(components, summary, lines_open, lines_recent, _local(moment, zone), str(zone))
