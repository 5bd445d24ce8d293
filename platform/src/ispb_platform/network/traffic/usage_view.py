"""A customer's usage as the customer page and the portal show it: this cycle's octets, the package's data
allowance (the fair-usage bar) and whether a traffic graph exists yet."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from ispb_netsync.rrd import customer_rrd
from ispb_platform.jobs.runs import local_today
from ispb_platform.network.radius.usage import Usage, usage_this_cycle
from ispb_tenants import TenantScope

_MB = 1024 * 1024


@dataclass(frozen=True)
class UsageView:
    usage: Usage
    allowance_octets: int | None
    """The package's data allowance for the cycle; None: unlimited."""
    has_graph: bool
    reduced_until: date | None = None
    """Over the allowance: the FUP speed applies until this day (``billing/fair_usage.py``)."""

    @property
    def used_percent(self) -> int | None:
        """Used of the allowance, 0-100 (the bar's width); None without an allowance."""
        if not self.allowance_octets:
            return None
        return min(100, self.usage.total_octets * 100 // self.allowance_octets)


async def usage_view(db: TenantScope, customer_id: int, data_dir: Path, *, today: date | None = None) -> UsageView:
    """The customer's usage this cycle (``radius/usage.py``) with the package's allowance."""
    day = today or local_today(datetime.now(UTC), db.tenant)
    usage = await usage_this_cycle(db.connection, customer_id, day)
    # SQL: two values through the customer's package (the Piccolo join would read the same in two steps)
    row = await db.connection.fetchrow(
        "SELECT p.data_allowance_mb, c.fup_until FROM customer c LEFT JOIN package p ON p.id = c.package_id"
        " WHERE c.id = $1",
        customer_id,
    )
    allowance_mb = row["data_allowance_mb"] if row else None
    has_graph = customer_rrd(data_dir, db.tenant.slug, customer_id).exists()
    reduced = row["fup_until"] if row else None
    return UsageView(usage, int(allowance_mb) * _MB if allowance_mb else None, has_graph, reduced)
