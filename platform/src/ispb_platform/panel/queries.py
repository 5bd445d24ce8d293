"""Reads for the Overview page: customers by status, active packages, SMS credit, messages waiting for it.

Piccolo queries in the signed-in operator's open tenant scope (the tenant row is a platform table, read by id).
"""

from typing import TypedDict, cast

from piccolo.query.functions.aggregate import Count

from ispb_tenants.tables import Customer, Outbox, Package, Tenant

# Piccolo adds ``id`` to each table class at run time; type checkers see it as ``_meta.primary_key``
# (lower case: linters take an upper-case name for a constant and would turn ``pk == value`` around)
_tenant_pk = Tenant._meta.primary_key


class SmsCredit(TypedDict):
    sms_credit: int
    sms_low_threshold: int


async def customers_by_status() -> dict[str, int]:
    rows = await Customer.select(Customer.status, Count(alias="n")).group_by(Customer.status)
    return {row["status"]: row["n"] for row in rows}


async def active_packages() -> int:
    return int(await Package.count().where(Package.is_active.eq(True)))


async def sms_credit(tenant_id: int) -> SmsCredit | None:
    row = await Tenant.select(Tenant.sms_credit, Tenant.sms_low_threshold).where(_tenant_pk == tenant_id).first()
    return cast(SmsCredit | None, row)


async def messages_waiting_for_credit() -> int:
    return int(await Outbox.count().where(Outbox.status == "waiting_credit"))
