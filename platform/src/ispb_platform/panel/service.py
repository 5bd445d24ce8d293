"""The operator panel's Overview: the figures on its first page."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ispb_platform.monitoring.queries import open_incident_list
from ispb_platform.panel import queries
from ispb_platform.panel.queries import SmsCredit
from ispb_platform.reports import queries as reports
from ispb_platform.reports.overview import month_window, overview_charts
from ispb_platform.web.charts import Chart
from ispb_tenants import TenantScope


@dataclass(frozen=True)
class Overview:
    by_status: dict[str, int]
    total: int
    packages: int
    sms: SmsCredit | None
    waiting: int
    incidents: list[dict[str, Any]]
    """Status checks down now (Monitoring): the dashboard's notice."""
    charts: dict[str, Chart]
    """Bills and payments, collection rate, customers, ARPU: read from the precomputed report tables only."""
    top_overdue: list[dict[str, Any]]
    refreshed_at: datetime | None


async def overview(db: TenantScope, today: date) -> Overview:
    by_status = await queries.customers_by_status()
    zone = _zone(db.tenant.timezone)
    return Overview(
        by_status=by_status,
        total=sum(by_status.values()),
        packages=await queries.active_packages(),
        sms=await queries.sms_credit(db.tenant.id),
        waiting=await queries.messages_waiting_for_credit(),
        incidents=[
            i | {"since": i["started_at"].astimezone(zone).strftime("%d %b, %H:%M")}
            for i in await open_incident_list(db.connection)
        ],
        charts=overview_charts(await reports.months(db.connection, *month_window(today)), db.tenant.currency),
        top_overdue=await reports.top_overdue(db.connection),
        refreshed_at=_local(await reports.last_refreshed(db.connection), zone),
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
