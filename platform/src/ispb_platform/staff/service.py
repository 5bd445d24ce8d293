"""Operator staff accounts: the rules of inviting, adding, editing and disabling people.

An operator admin adds a person by invitation (name, e-mail, role): the person chooses their own password
through a single-use link that expires after 72 hours (only the token's SHA-256 is stored). E-mail addresses
are unique platform-wide, so the answer to "add a person" must not depend on whether the address already has
an account at another operator or is the platform admin: inviting never looks the address up. Only the link
tells, to whoever opens it, that the address already has an account (and then no second account is made).
ISPB sends no e-mail yet, so the panel shows the link once to the operator admin to pass on; until mail is
sent, that admin could open the link themselves (each invitation is in the activity log).

An operator must keep an active admin, and an admin cannot lock themselves out; a new password, a lost admin
role or a disabled account ends the person's sessions at once. Everything in the panel runs in the caller's
tenant scope (``queries.py``), so a change and its activity-log line commit together; the invitation page has
no signed-in operator and opens a platform transaction of its own.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ispb_platform.activity.service import record_activity
from ispb_platform.auth.passwords import hash_password_async
from ispb_platform.auth.roles import Principal
from ispb_platform.staff import queries
from ispb_platform.staff.forms import ROLES, InvitationDraft, StaffDraft
from ispb_platform.staff.queries import ClosedInvitation, InvitationRow, OpenInvitation
from ispb_tenants import Database, TenantScope, get_tenant

INVITATION_LIFETIME = timedelta(hours=72)


@dataclass(frozen=True)
class Invitation:
    """A new invitation; ``token`` goes into the link and is never stored (only its hash)."""

    token: str
    email: str
    expires_at: datetime


@dataclass(frozen=True)
class Accepted:
    """An accepted invitation: the new account, or None when the e-mail already had one (nothing was made)."""

    invitation: OpenInvitation
    user_id: int | None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def invite_staff(
    db: TenantScope, operator: Principal, draft: InvitationDraft, *, now: datetime, ip: str
) -> Invitation:
    """Record an invitation and its activity line. The same whatever the address: it is not looked up here."""
    token = secrets.token_urlsafe(32)
    expires_at = now + INVITATION_LIFETIME
    invitation_id = await queries.insert_invitation(
        db.connection,
        operator.require_tenant().id,
        name=draft.name,
        email=draft.email,
        role=draft.role,
        token_hash=_token_hash(token),
        invited_by=operator.user_id,
        created_at=now,
        expires_at=expires_at,
    )
    await record_activity(
        db,
        operator,
        "staff.invited",
        object_type="staff_invitation",
        object_id=invitation_id,
        summary=f"Invited {ROLES[draft.role].lower()} {draft.name} <{draft.email}>",
        ip=ip,
    )
    return Invitation(token, draft.email, expires_at)


async def pending_invitations(db: TenantScope, tenant_id: int, now: datetime) -> list[InvitationRow]:
    return await queries.pending_invitations(db.connection, tenant_id, now)


async def open_invitation(database: Database, token: str, now: datetime) -> OpenInvitation | None:
    """The invitation behind a link, if it can still be accepted."""
    async with database.platform() as connection:
        return await queries.open_invitation(connection, _token_hash(token), now)


async def closed_invitation(database: Database, token: str) -> ClosedInvitation | None:
    """Why a link that cannot be accepted stopped working (revoked, used, expired); None for an unknown one."""
    async with database.platform() as connection:
        return await queries.closed_invitation(connection, _token_hash(token))


async def pending_invitation(tenant_id: int, invitation_id: int, now: datetime) -> InvitationRow | None:
    return await queries.pending_invitation(tenant_id, invitation_id, now)


async def revoke_invitation(
    db: TenantScope, operator: Principal, invitation: InvitationRow, *, reason: str, now: datetime, ip: str
) -> bool:
    """Withdraw a pending invitation (its link then says so) and log it with the reason; False when it was
    accepted or withdrawn meanwhile."""
    tenant_id = operator.require_tenant().id
    if not await queries.revoke_invitation(tenant_id, invitation["id"], by=operator.user_id, now=now):
        return False
    await record_activity(
        db,
        operator,
        "staff.invitation_revoked",
        object_type="staff_invitation",
        object_id=invitation["id"],
        summary=f"Withdrew the invitation of {invitation['name']} <{invitation['email']}>: {reason}",
        details={"reason": reason},
        ip=ip,
    )
    return True


async def accept_invitation(database: Database, token: str, password: str, now: datetime) -> Accepted | None:
    """Create the invited person's account with the password they chose and use the invitation up; None for
    a link that is unknown, used, expired or of a suspended operator."""
    password_hash = await hash_password_async(password)  # before the transaction: hashing takes a while
    token_hash = _token_hash(token)
    async with database.platform() as connection:
        found = await queries.open_invitation(connection, token_hash, now)
    if found is None:
        return None
    # The operator's scope (its search path reaches the platform tables too): the account, the used invitation
    # and the activity line commit together.
    async with database.tenant(await get_tenant(database, found["operator_slug"])) as scope:
        invitation = await queries.open_invitation(scope.connection, token_hash, now, lock=True)
        if invitation is None:  # used by a second submission meanwhile
            return None
        if invitation["email_taken"]:
            return Accepted(invitation, None)
        user_id = await queries.create_invited_user(scope.connection, invitation, password_hash)
        if user_id is not None:
            await record_activity(
                scope,
                None,
                "staff.added",
                object_type="staff",
                object_id=user_id,
                summary=f"{invitation['name']} <{invitation['email']}> accepted the invitation as"
                f" {ROLES[invitation['role']].lower()}",
            )
        return Accepted(invitation, user_id)


class StaffRuleBroken(Exception):
    """The change would lock the operator out (no active admin) or the admin out of their own account."""


async def add_staff(db: TenantScope, tenant_id: int, draft: StaffDraft) -> int:
    """Add a person with a password (the platform admin's console, who sees every account anyway); raises
    `EmailTaken` (the transaction stays usable)."""
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
