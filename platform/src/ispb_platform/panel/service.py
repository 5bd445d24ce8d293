"""The operator panel's Overview: the figures on its first page."""

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ispb_platform.monitoring.queries import open_incident_list
from ispb_platform.panel import queries
from ispb_platform.panel.queries import SmsCredit
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


async def overview(db: TenantScope) -> Overview:
    by_status = await queries.customers_by_status()
    return Overview(
        by_status=by_status,
        total=sum(by_status.values()),
        packages=await queries.active_packages(),
        sms=await queries.sms_credit(db.tenant.id),
        waiting=await queries.messages_waiting_for_credit(),
        incidents=[
            i | {"since": i["started_at"].astimezone(_zone(db.tenant.timezone)).strftime("%d %b, %H:%M")}
            for i in await open_incident_list(db.connection)
        ],
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
