"""Operator staff accounts: rules and storage.

Users live in ``platform.platform_user`` (sign-in is platform-wide by e-mail) but every query here is bounded
by the operator's ``tenant_id``, so one operator's admin can neither see nor touch another operator's people.
Queries run on the caller's tenant-scope connection, so a change and its activity-log line commit together.
"""

from dataclasses import dataclass
from typing import Any

import asyncpg

from ispb_platform.auth.passwords import MIN_PASSWORD, hash_password_async
from ispb_tenants import Connection

ROLES = {"operator_admin": "Operator admin", "operator_staff": "Operator staff"}
_COLUMNS = "id, email, name, role, is_active, created_at, last_login_at"


class StaffRuleBroken(Exception):
    """The change would lock the operator out (no active admin) or the admin out of their own account."""


@dataclass(frozen=True)
class StaffDraft:
    name: str
    email: str
    role: str
    password: str  # empty on edit: keep the current one


def validate_staff(data: dict[str, str], *, new: bool) -> tuple[StaffDraft | None, dict[str, str]]:
    errors: dict[str, str] = {}
    name = data.get("user_name", "").strip()
    email = data.get("email", "").strip()
    role = data.get("role", "")
    password = data.get("password", "")
    if not name:
        errors["user_name"] = "Enter the person's name."
    elif len(name) > 120:
        errors["user_name"] = "Use at most 120 characters."
    if new and ("@" not in email or len(email) > 200 or " " in email):
        errors["email"] = "Enter an e-mail address such as rahim@example.com."
    if role not in ROLES:
        errors["role"] = "Choose operator admin or operator staff."
    if (new or password) and len(password) < MIN_PASSWORD:
        errors["password"] = f"Use at least {MIN_PASSWORD} characters."
    if errors:
        return None, errors
    return StaffDraft(name, email, role, password), {}


async def list_staff(connection: Connection, tenant_id: int) -> list[asyncpg.Record]:
    return list(
        await connection.fetch(
            f"SELECT {_COLUMNS} FROM platform.platform_user WHERE tenant_id = $1"  # noqa: S608 (constant columns)
            " ORDER BY NOT is_active, role, lower(name)",
            tenant_id,
        )
    )


async def get_staff(connection: Connection, tenant_id: int, user_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM platform.platform_user WHERE tenant_id = $1 AND id = $2",  # noqa: S608
        tenant_id,
        user_id,
    )
    return row


async def add_staff(connection: Connection, tenant_id: int, draft: StaffDraft) -> int:
    """Raises ``asyncpg.UniqueViolationError`` when the e-mail is taken (inside a savepoint: the caller's
    transaction stays usable to show the form again)."""
    password_hash = await hash_password_async(draft.password)
    async with connection.transaction():
        user_id = await connection.fetchval(
            "INSERT INTO platform.platform_user (email, name, password_hash, role, tenant_id)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            draft.email,
            draft.name,
            password_hash,
            draft.role,
            tenant_id,
        )
    return int(user_id)


async def _other_active_admins(connection: Connection, tenant_id: int, user_id: int) -> int:
    # Lock the operator's admin rows so two admins demoting each other at once cannot both succeed.
    rows = await connection.fetch(
        "SELECT id FROM platform.platform_user WHERE tenant_id = $1 AND role = 'operator_admin' AND is_active"
        " AND id <> $2 FOR UPDATE",
        tenant_id,
        user_id,
    )
    return len(rows)


async def update_staff(
    connection: Connection, tenant_id: int, user_id: int, draft: StaffDraft, *, acting_user_id: int
) -> dict[str, Any]:
    """Change name, role and (when given) password; returns what changed. A new password ends the person's
    sessions, as does losing the admin role, so the change holds at once."""
    current = await get_staff(connection, tenant_id, user_id)
    if current is None:
        raise LookupError(user_id)
    demoted = current["role"] == "operator_admin" and draft.role != "operator_admin"
    if demoted and user_id == acting_user_id:
        raise StaffRuleBroken("You cannot remove your own admin role; ask another operator admin.")
    if demoted and current["is_active"] and not await _other_active_admins(connection, tenant_id, user_id):
        raise StaffRuleBroken("This is the operator's only active admin; make someone else an admin first.")
    changed = {"name": current["name"] != draft.name, "role": current["role"] != draft.role}
    password_hash = await hash_password_async(draft.password) if draft.password else None
    await connection.execute(
        "UPDATE platform.platform_user SET name = $3, role = $4,"
        " password_hash = COALESCE($5, password_hash) WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        user_id,
        draft.name,
        draft.role,
        password_hash,
    )
    if draft.password or demoted:
        await _end_sessions(connection, user_id)
    return {"changed": sorted(k for k, v in changed.items() if v), "password_reset": bool(draft.password)}


async def set_active(
    connection: Connection, tenant_id: int, user_id: int, active: bool, *, acting_user_id: int
) -> bool:
    """Enable or disable an account; returns False when it already was so. Disabling ends its sessions."""
    current = await get_staff(connection, tenant_id, user_id)
    if current is None:
        raise LookupError(user_id)
    if current["is_active"] == active:
        return False
    if not active:
        if user_id == acting_user_id:
            raise StaffRuleBroken("You cannot disable your own account.")
        if current["role"] == "operator_admin" and not await _other_active_admins(connection, tenant_id, user_id):
            raise StaffRuleBroken("This is the operator's only active admin; it cannot be disabled.")
    await connection.execute(
        "UPDATE platform.platform_user SET is_active = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        user_id,
        active,
    )
    if not active:
        await _end_sessions(connection, user_id)
    return True


async def _end_sessions(connection: Connection, user_id: int) -> None:
    await connection.execute("DELETE FROM platform.web_session WHERE kind = 'staff' AND user_id = $1", user_id)
