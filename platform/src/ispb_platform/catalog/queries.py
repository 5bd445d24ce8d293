"""Reads and writes of master packages, through Piccolo, in the open tenant scope.

A package's name is unique (a unique index): a clash surfaces as `PackageNameTaken`, raised from a savepoint so
the request's transaction stays usable for the form shown again.
"""

import dataclasses
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

import asyncpg
from piccolo.query.functions.aggregate import Count

from ispb_platform.catalog.forms import PackageDraft
from ispb_tenants import TenantScope
from ispb_tenants.tables import Customer, Package

# Piccolo adds ``id`` to each table class at run time; type checkers see it as ``_meta.primary_key``
# (lower case: linters take an upper-case name for a constant and would turn ``pk == value`` around)
_package_pk = Package._meta.primary_key


class PackageRow(TypedDict):
    id: int
    name: str
    service_type: str
    price_minor: int
    vat_rate_bp: int
    vat_inclusive: bool
    download_kbps: int
    upload_kbps: int
    validity_days: int
    data_allowance_mb: int | None
    fup_download_kbps: int | None
    fup_upload_kbps: int | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class PackageListing(PackageRow):
    customers: int
    """How many customers are on it (a retired package may still have some)."""


class PackageNameTaken(ValueError):
    """Another package already has this name."""


async def list_packages() -> list[PackageListing]:
    """Active packages first, cheapest first, each with its number of customers."""
    packages = (
        await Package.select().order_by(Package.is_active, ascending=False).order_by(Package.price_minor, Package.name)
    )
    counts = await Customer.select(Customer.package, Count(alias="n")).group_by(Customer.package)
    customers = {row["package_id"]: row["n"] for row in counts}
    return [cast(PackageListing, {**row, "customers": customers.get(row["id"], 0)}) for row in packages]


async def get_package(package_id: int) -> PackageRow | None:
    return cast(PackageRow | None, await Package.select().where(_package_pk == package_id).first())


async def package_exists(package_id: int) -> bool:
    return bool(await Package.exists().where(_package_pk == package_id))


async def name_taken(name: str, except_id: int | None) -> bool:
    """Whether another package (not ``except_id``) has this name: checked with the form's other fields, so one
    answer lists every problem; the unique index still catches a concurrent clash (`PackageNameTaken`)."""
    query = Package.exists().where(Package.name == name)
    if except_id is not None:
        query = query.where(_package_pk != except_id)
    return bool(await query)


def _values(draft: PackageDraft) -> dict[str, Any]:
    return dataclasses.asdict(draft) | {"service_type": draft.service_type.value}


async def insert_package(db: TenantScope, draft: PackageDraft) -> int:
    try:
        async with db.connection.transaction():  # a savepoint: a clash leaves the request's transaction usable
            rows = await Package.insert(Package(**_values(draft))).returning(_package_pk)
    except asyncpg.UniqueViolationError:
        raise PackageNameTaken(draft.name) from None
    return int(rows[0]["id"])


async def update_package(db: TenantScope, package_id: int, draft: PackageDraft) -> None:
    values = _values(draft) | {"updated_at": datetime.now(UTC)}
    try:
        async with db.connection.transaction():  # a savepoint, as in insert_package
            await Package.update(**values).where(_package_pk == package_id)
    except asyncpg.UniqueViolationError:
        raise PackageNameTaken(draft.name) from None
