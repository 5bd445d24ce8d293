"""The admin console's reads and writes of platform tables (operators, their users and sessions), through Piccolo.

Platform tables name their schema (``platform``), so these queries run in a ``db.platform()`` transaction or in
the operator's tenant scope, whichever the use case opens: in the tenant scope, a change and its activity-log
line commit together.
"""

from datetime import UTC, datetime
from typing import TypedDict, cast

from piccolo.columns.combination import Where
from piccolo.query.functions.aggregate import Count
from piccolo.query.functions.string import Lower
from piccolo.querystring import QueryString

from ispb_tenants.tables import Customer, PlatformUser, Tenant, WebSession

# Piccolo adds ``id`` to each table class at run time; type checkers see it as ``_meta.primary_key``
_TENANT_ID = Tenant._meta.primary_key
_USER_ID = PlatformUser._meta.primary_key


class OperatorDetails(TypedDict):
    """What the operator form edits; printed on the operator's invoices."""

    name: str
    timezone: str
    currency: str
    address: str
    phone: str
    email: str
    payment_instructions: str
    accounting_retention_months: int
    """Months of RADIUS accounting kept besides the current one (``netsync.radacct_partitions``)."""
    netflow_retention_days: int
    """Days of NetFlow capture files kept (``maintenance.purge_netflow``)."""


def _is_tenant(tenant_id: int) -> Where:
    return Tenant._meta.primary_key == tenant_id


async def customer_counts() -> tuple[int, int]:
    """(all customers, active customers) of the tenant whose scope is open."""
    rows = await Customer.select(Customer.status, Count()).group_by(Customer.status)
    return sum(row["count"] for row in rows), sum(row["count"] for row in rows if row["status"] == "active")


async def email_taken(email: str) -> bool:
    """Whether any user signs in with ``email`` (compared as the unique index does: ``lower(email)``)."""
    return bool(await PlatformUser.exists().where(Lower(PlatformUser.email) == Lower(QueryString("{}", email))))


async def slug_taken(slug: str) -> bool:
    """Whether an operator (of any status) already has ``slug``."""
    return bool(await Tenant.exists().where(Tenant.slug == slug))


async def insert_user(email: str, name: str, password_hash: str, role: str, tenant_id: int | None) -> int:
    """A new platform or operator user; a taken e-mail raises ``asyncpg.UniqueViolationError``."""
    user = PlatformUser(email=email, name=name, password_hash=password_hash, role=role, tenant=tenant_id)
    rows = await PlatformUser.insert(user).returning(_USER_ID)
    return int(rows[0]["id"])


async def tenant_status(tenant_id: int) -> str | None:
    row = await Tenant.select(Tenant.status).where(_is_tenant(tenant_id)).first()
    return None if row is None else str(row["status"])


async def set_tenant_status(tenant_id: int, status: str) -> bool:
    """Set the operator's status; False when it already had it."""
    changed = (
        await Tenant.update({Tenant.status: status, Tenant.updated_at: datetime.now(UTC)})
        .where(_is_tenant(tenant_id) & (Tenant.status != status))
        .returning(_TENANT_ID)
    )
    return bool(changed)


async def end_tenant_sessions(tenant_id: int) -> None:
    """Sign out everyone of the operator (staff and customers)."""
    await WebSession.delete().where(WebSession.tenant == tenant_id)


async def operator_details(tenant_id: int) -> OperatorDetails | None:
    row = (
        await Tenant.select(
            Tenant.name,
            Tenant.timezone,
            Tenant.currency,
            Tenant.address,
            Tenant.phone,
            Tenant.email,
            Tenant.payment_instructions,
            Tenant.accounting_retention_months,
            Tenant.netflow_retention_days,
        )
        .where(_is_tenant(tenant_id))
        .first()
    )
    return cast(OperatorDetails | None, row)


async def has_logo(tenant_id: int) -> bool:
    return bool(await Tenant.exists().where(_is_tenant(tenant_id) & Tenant.logo.is_not_null()))


async def update_details(tenant_id: int, details: OperatorDetails) -> None:
    values = {getattr(Tenant, column): value for column, value in details.items()}
    await Tenant.update(values | {Tenant.updated_at: datetime.now(UTC)}).where(_is_tenant(tenant_id))


async def set_logo(tenant_id: int, logo: tuple[bytes, str] | None) -> None:
    """Store the logo and its mime type, or remove it (None)."""
    content, kind = logo if logo else (None, None)
    await Tenant.update({Tenant.logo: content, Tenant.logo_type: kind}).where(_is_tenant(tenant_id))
