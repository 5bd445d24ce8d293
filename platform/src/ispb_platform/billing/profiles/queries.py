"""Reads and writes of billing profiles, through Piccolo, in the open tenant scope.

Exactly one profile is the default (new customers get it): saving a default first clears the flag on the others,
in the same transaction. Names are unique; a clash surfaces as `ProfileNameTaken`, raised from a savepoint so the
request's transaction stays usable.
"""

import dataclasses
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

import asyncpg
from piccolo.query.functions.aggregate import Count

from ispb_platform.billing.profiles.forms import ProfileDraft
from ispb_tenants import TenantScope
from ispb_tenants.tables import BillingProfile, Customer

# Piccolo adds ``id`` to each table class at run time; type checkers see it as ``_meta.primary_key``
# (lower case: linters take an upper-case name for a constant and would turn ``pk == value`` around)
_billing_profile_pk = BillingProfile._meta.primary_key


class ProfileRow(TypedDict):
    id: int
    name: str
    cycle: str
    billing_day: int
    due_days: int
    grace_days: int
    auto_suspend: bool
    auto_activate: bool
    is_default: bool
    prorata: str
    suspend_day: int | None
    bill_suspended: bool
    created_at: datetime
    updated_at: datetime


class ProfileListing(ProfileRow):
    customers: int
    """Customers assigned to it by name (customers without a profile follow the default)."""


class ProfileNameTaken(ValueError):
    """Another billing profile already has this name."""


async def list_profiles() -> list[ProfileListing]:
    """The default first, then by name, each with its number of customers."""
    profiles = (
        await BillingProfile.select().order_by(BillingProfile.is_default, ascending=False).order_by(BillingProfile.name)
    )
    counts = await Customer.select(Customer.billing_profile, Count(alias="n")).group_by(Customer.billing_profile)
    customers = {row["billing_profile_id"]: row["n"] for row in counts}
    return [cast(ProfileListing, {**row, "customers": customers.get(row["id"], 0)}) for row in profiles]


async def get_profile(profile_id: int) -> ProfileRow | None:
    return cast(ProfileRow | None, await BillingProfile.select().where(_billing_profile_pk == profile_id).first())


async def profile_exists(profile_id: int) -> bool:
    return bool(await BillingProfile.exists().where(_billing_profile_pk == profile_id))


def _values(draft: ProfileDraft) -> dict[str, Any]:
    return dataclasses.asdict(draft) | {"cycle": draft.cycle.value}


async def _clear_default() -> None:
    await BillingProfile.update({BillingProfile.is_default: False}).where(BillingProfile.is_default.eq(True))


async def insert_profile(db: TenantScope, draft: ProfileDraft) -> int:
    try:
        async with db.connection.transaction():  # a savepoint: a clash leaves the request's transaction usable
            if draft.is_default:  # exactly one default: the one being saved (kept if the name clashes)
                await _clear_default()
            rows = await BillingProfile.insert(BillingProfile(**_values(draft))).returning(_billing_profile_pk)
    except asyncpg.UniqueViolationError:
        raise ProfileNameTaken(draft.name) from None
    return int(rows[0]["id"])


async def update_profile(db: TenantScope, profile_id: int, draft: ProfileDraft) -> None:
    values = _values(draft) | {"updated_at": datetime.now(UTC)}
    try:
        async with db.connection.transaction():  # a savepoint, as in insert_profile
            if draft.is_default:
                await _clear_default()
            await BillingProfile.update(**values).where(_billing_profile_pk == profile_id)
    except asyncpg.UniqueViolationError:
        raise ProfileNameTaken(draft.name) from None
