"""CSV exports of the Overview's charts and its "owing most" table: the same numbers as the page, for a spreadsheet.

``/panel/reports/<chart>.csv`` for each chart slug (``overview.CHART_SLUGS``), ``/panel/reports/top-overdue.csv``.
Read from the precomputed report tables only, like the page.
"""

from datetime import UTC, datetime
from typing import Any

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response

from ispb_billing import Money
from ispb_platform.auth.access import allow
from ispb_platform.auth.roles import OPERATORS
from ispb_platform.jobs.runs import local_today
from ispb_platform.reports import queries
from ispb_platform.reports.overview import CHART_SLUGS, month_window, overview_charts
from ispb_platform.web.charts import chart_csv, rows_csv
from ispb_platform.web.scope import TenantScope, in_tenant_scope

OPERATOR = allow(OPERATORS)
TOP_OVERDUE = "top-overdue"


@get("/panel/reports/{report:str}", opt=OPERATOR)
@in_tenant_scope
async def report_csv(db: TenantScope, report: FromPath[str]) -> Response[bytes]:
    """``bills-payments.csv`` … or ``top-overdue.csv``; anything else is not found."""
    slug, dot, extension = report.rpartition(".")
    if not dot or extension != "csv" or slug not in (*CHART_SLUGS, TOP_OVERDUE):
        raise NotFoundException()
    today = local_today(datetime.now(UTC), db.tenant)
    if slug == TOP_OVERDUE:
        content = _overdue_csv(await queries.top_overdue(db.connection), db.tenant.currency)
    else:
        rows = await queries.months(db.connection, *month_window(today))
        content = chart_csv(overview_charts(rows, db.tenant.currency)[slug])
    return csv_download(content, f"{db.tenant.slug}-{slug}-{today:%Y-%m-%d}.csv")


def csv_download(content: bytes, file_name: str) -> Response[bytes]:
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"', "Cache-Control": "no-store"},
    )


def _overdue_csv(rows: list[dict[str, Any]], currency: str) -> bytes:
    header = ["Rank", "Customer ID", "Name", "Status", f"Overdue ({currency})", "Overdue bills", "Oldest due date"]
    return rows_csv(
        header,
        (
            [
                r["rank"],
                r["code"],
                r["name"],
                r["status"],
                Money.from_minor(int(r["overdue_minor"]), currency).to_decimal(),
                r["overdue_bills"],
                r["oldest_due"].isoformat(),
            ]
            for r in rows
        ),
    )


ROUTES = [report_csv]
