"""Billing profiles: saving one (create or edit) with its activity record.

A profile holds the rules the billing and suspension jobs follow for its customers: cycle and billing day,
due and grace days, pro-rata, auto-suspend and auto-activate. A monthly profile cannot bill a validity package
(a 1-day hotspot package would be billed a month at a day's price; ``billing/validity.py``), so a profile is
not made monthly, nor a monthly profile the default, while such customers would follow it.
"""

from collections.abc import Mapping

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing import queries as billing_queries
from ispb_platform.billing.profiles import queries
from ispb_platform.billing.profiles.forms import ProfileDraft, validate_profile
from ispb_tenants import TenantScope
from ispb_tenants.tables.tenant import BillingCycle


class ProfileNotFound(LookupError):
    """No billing profile with that id for this operator."""


async def save_profile(
    db: TenantScope, operator: Principal, data: Mapping[str, str], profile_id: int | None, *, ip: str
) -> dict[str, str]:
    """Create (``profile_id`` None) or update a profile from the form; the errors to show, empty when saved.

    Raises `ProfileNotFound` for an edit of a profile that is not there (also when the form has errors).
    """
    draft, errors = validate_profile(data)
    if profile_id is not None and not await queries.profile_exists(profile_id):
        raise ProfileNotFound(profile_id)
    name = (data.get("name") or "").strip()
    if "name" not in errors and await queries.name_taken(name, profile_id):
        errors = errors | {"name": f"A billing profile named {name!r} already exists."}
    if draft is None or errors:
        return errors
    if errors := await _validity_errors(db, draft, profile_id):
        return errors
    try:
        if profile_id is None:
            saved = await queries.insert_profile(db, draft)
        else:
            await queries.update_profile(db, profile_id, draft)
            saved = profile_id
    except queries.ProfileNameTaken:
        return {"name": f"A billing profile named {draft.name!r} already exists."}
    await billing_queries.resolve_parked_on_profile(db.connection, saved, with_unassigned=draft.is_default)
    await record_activity(
        db,
        operator,
        "billing_profile.saved",
        object_type="billing_profile",
        object_id=saved,
        summary=f"Saved billing profile {draft.name}",
        details={"billing_day": draft.billing_day, "grace_days": draft.grace_days},
        ip=ip,
    )
    return {}


async def _validity_errors(db: TenantScope, draft: ProfileDraft, profile_id: int | None) -> dict[str, str]:
    """A monthly profile that customers with validity packages would follow: refused, with what to do."""
    if draft.cycle is not BillingCycle.MONTHLY:
        return {}
    own = await billing_queries.validity_customers(db.connection, profile_id, with_unassigned=False)
    if own is not None:
        return {"cycle": _validity_message(own, "use this profile")}
    if draft.is_default:
        unassigned = await billing_queries.validity_customers(db.connection, None, with_unassigned=True)
        if unassigned is not None:
            return {"is_default": _validity_message(unassigned, "follow the default profile")}
    return {}


def _validity_message(found: billing_queries.ValidityCustomers, how: str) -> str:
    who = "1 customer" if found.count == 1 else f"{found.count} customers"
    days = "1 day" if found.validity_days == 1 else f"{found.validity_days} days"
    return (
        f"{who} with a validity package ({found.package}, valid for {days}) {how}: a monthly profile would bill "
        "them a whole month at the package's price. Keep this profile daily, or move them to a daily billing "
        "profile first."
    )
