"""Operator staff accounts: the rules of adding, editing and disabling people.

An operator must keep an active admin, and an admin cannot lock themselves out; a new password, a lost admin
role or a disabled account ends the person's sessions at once. Everything runs in the caller's tenant scope
(``queries.py``), so a change and its activity-log line commit together.
"""

from typing import Any

from ispb_platform.auth.passwords import hash_password_async
from ispb_platform.staff import queries
from ispb_platform.staff.forms import StaffDraft
from ispb_tenants import TenantScope


class StaffRuleBroken(Exception):
    """The change would lock the operator out (no active admin) or the admin out of their own account."""


async def add_staff(db: TenantScope, tenant_id: int, draft: StaffDraft) -> int:
    """Add a person; raises `EmailTaken` (the transaction stays usable)."""
    password_hash = await hash_password_async(draft.password)
    return await queries.insert_staff(db, tenant_id, draft.name, draft.email, draft.role, password_hash)


async def update_staff(tenant_id: int, user_id: int, draft: StaffDraft, *, acting_user_id: int) -> dict[str, Any]:
    """Change name, role and (when given) password; returns what changed. A new password ends the person's
    sessions, as does losing the admin role, so the change holds at once."""
    current = await queries.get_staff(tenant_id, user_id)
    if current is None:
        raise LookupError(user_id)
    demoted = current["role"] == "operator_admin" and draft.role != "operator_admin"
    if demoted and user_id == acting_user_id:
        raise StaffRuleBroken("You cannot remove your own admin role; ask another operator admin.")
    if demoted and current["is_active"] and not await queries.count_other_active_admins(tenant_id, user_id):
        raise StaffRuleBroken("This is the operator's only active admin; make someone else an admin first.")
    changed = {"name": current["name"] != draft.name, "role": current["role"] != draft.role}
    password_hash = await hash_password_async(draft.password) if draft.password else None
    await queries.update_staff(tenant_id, user_id, name=draft.name, role=draft.role, password_hash=password_hash)
    if draft.password or demoted:
        await queries.end_staff_sessions(user_id)
    return {"changed": sorted(k for k, v in changed.items() if v), "password_reset": bool(draft.password)}


async def set_active(tenant_id: int, user_id: int, active: bool, *, acting_user_id: int) -> bool:
    """Enable or disable an account; returns False when it already was so. Disabling ends its sessions."""
    current = await queries.get_staff(tenant_id, user_id)
    if current is None:
        raise LookupError(user_id)
    if current["is_active"] == active:
        return False
    if not active:
        if user_id == acting_user_id:
            raise StaffRuleBroken("You cannot disable your own account.")
        if current["role"] == "operator_admin" and not await queries.count_other_active_admins(tenant_id, user_id):
            raise StaffRuleBroken("This is the operator's only active admin; it cannot be disabled.")
    await queries.set_active(tenant_id, user_id, active)
    if not active:
        await queries.end_staff_sessions(user_id)
    return True
