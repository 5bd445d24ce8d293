"""Billing profiles: saving one (create or edit) with its activity record.

A profile holds the rules the billing and suspension jobs follow for its customers: cycle and billing day,
due and grace days, pro-rata, auto-suspend and auto-activate.
"""

from collections.abc import Mapping

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.roles import Principal
from ispb_platform.billing.profiles import queries
from ispb_platform.billing.profiles.forms import validate_profile
from ispb_tenants import TenantScope


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
    try:
        if profile_id is None:
            saved = await queries.insert_profile(db, draft)
        else:
            await queries.update_profile(db, profile_id, draft)
            saved = profile_id
    except queries.ProfileNameTaken:
        return {"name": f"A billing profile named {draft.name!r} already exists."}
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
