"""The operator panel's Overview: the figures on its first page."""

from dataclasses import dataclass

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


async def overview(db: TenantScope) -> Overview:
    by_status = await queries.customers_by_status()
    return Overview(
        by_status=by_status,
        total=sum(by_status.values()),
        packages=await queries.active_packages(),
        sms=await queries.sms_credit(db.tenant.id),
        waiting=await queries.messages_waiting_for_credit(),
    )
