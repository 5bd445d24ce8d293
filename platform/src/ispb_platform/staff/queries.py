"""Operator staff accounts: reads and writes of ``platform.platform_user`` through Piccolo.

Users live in the platform schema (sign-in is platform-wide by e-mail) but every query here is bounded by the
operator's ``tenant_id``, so one operator's admin can neither see nor touch another operator's people. The
queries run in the caller's open tenant scope (``PlatformUser`` names its schema), so a change and its
activity-log line commit together.
"""

from datetime import datetime
from typing import Any, TypedDict, cast

import asyncpg
from piccolo.columns import Column
from piccolo.columns.combination import And
from piccolo.query.functions.string import Lower

from ispb_tenants import Connection, TenantScope
from ispb_tenants.tables import PlatformUser, StaffInvitation, WebSession

# Piccolo adds ``id`` to each table class at run time; type checkers see it as ``_meta.primary_key``
_USER_ID = PlatformUser._meta.primary_key
_invitation_pk = StaffInvitation._meta.primary_key  # lower case: see activity/queries.py
_COLUMNS = (
    _USER_ID,
    PlatformUser.email,
    PlatformUser.name,
    PlatformUser.role,
    PlatformUser.is_active,
    PlatformUser.created_at,
    PlatformUser.last_login_at,
)


class StaffRow(TypedDict):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class EmailTaken(Exception):
    """Another user (of any operator, or of the platform) signs in with this e-mail (unique, case-insensitive)."""


def _of_tenant(tenant_id: int, user_id: int) -> And:
    return (PlatformUser.tenant == tenant_id) & (PlatformUser._meta.primary_key == user_id)


async def list_staff(tenant_id: int) -> list[StaffRow]:
    """The operator's people: active first, then by role and name."""
    rows = (
        await PlatformUser.select(*_COLUMNS)
        .where(PlatformUser.tenant == tenant_id)
        .order_by(PlatformUser.is_active, ascending=False)
        .order_by(PlatformUser.role)
        .order_by(Lower(PlatformUser.name))
    )
    return cast(list[StaffRow], rows)


async def get_staff(tenant_id: int, user_id: int) -> StaffRow | None:
    return cast(StaffRow | None, await PlatformUser.select(*_COLUMNS).where(_of_tenant(tenant_id, user_id)).first())


async def insert_staff(db: TenantScope, tenant_id: int, name: str, email: str, role: str, password_hash: str) -> int:
    """Raises `EmailTaken` from a savepoint: the caller's transaction stays usable to show the form again."""
    user = PlatformUser(email=email, name=name, password_hash=password_hash, role=role, tenant=tenant_id)
    try:
        async with db.connection.transaction():  # a savepoint
            rows = await PlatformUser.insert(user).returning(_USER_ID)
    except asyncpg.UniqueViolationError:
        raise EmailTaken(email) from None
    return int(rows[0]["id"])


async def count_other_active_admins(tenant_id: int, user_id: int) -> int:
    """Active operator admins of the tenant other than ``user_id``, their rows locked until commit, so two
    admins demoting each other at once cannot both succeed."""
    rows = (
        await PlatformUser.select(_USER_ID)
        .where(
            (PlatformUser.tenant == tenant_id)
            & (PlatformUser.role == "operator_admin")
            & (PlatformUser.is_active == True)  # noqa: E712 (a Piccolo condition, not a comparison)
            & (PlatformUser._meta.primary_key != user_id)
        )
        .lock_rows()
    )
    return len(rows)


async def update_staff(tenant_id: int, user_id: int, *, name: str, role: str, password_hash: str | None) -> None:
    """Set name and role, and the password hash when given (else keep the current one)."""
    values: dict[Column | str, Any] = {PlatformUser.name: name, PlatformUser.role: role}
    if password_hash is not None:
        values[PlatformUser.password_hash] = password_hash
    await PlatformUser.update(values).where(_of_tenant(tenant_id, user_id))


async def set_active(tenant_id: int, user_id: int, active: bool) -> None:
    await PlatformUser.update({PlatformUser.is_active: active}).where(_of_tenant(tenant_id, user_id))


async def end_staff_sessions(user_id: int) -> None:
    """Sign the person out everywhere (their ``web_session`` rows go)."""
    await WebSession.delete().where((WebSession.kind == "staff") & (WebSession.user_id == user_id))


# --- invitations ------------------------------------------------------------------------------------------
# SQL for the statements written before ``StaffInvitation`` had its Piccolo class (fixed, with parameters);
# Piccolo for the revocation. The panel's run in the operator's tenant scope (``platform`` is on its search
# path); the invitation page's run in a platform transaction (no operator is signed in there).


class InvitationRow(TypedDict):
    id: int
    email: str
    name: str
    role: str
    created_at: datetime
    expires_at: datetime


class OpenInvitation(TypedDict):
    """A usable invitation as its link shows it, and whether its e-mail already has an account."""

    id: int
    tenant_id: int
    operator_slug: str
    operator: str
    email: str
    name: str
    role: str
    expires_at: datetime
    email_taken: bool


async def insert_invitation(
    connection: Connection,
    tenant_id: int,
    *,
    name: str,
    email: str,
    role: str,
    token_hash: str,
    invited_by: int,
    created_at: datetime,
    expires_at: datetime,
) -> int:
    invitation_id = await connection.fetchval(
        "INSERT INTO staff_invitation (tenant_id, email, name, role, token_hash, invited_by, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        tenant_id,
        email,
        name,
        role,
        token_hash,
        invited_by,
        created_at,
        expires_at,
    )
    return int(invitation_id)


async def pending_invitations(connection: Connection, tenant_id: int, now: datetime) -> list[InvitationRow]:
    """The operator's invitations not yet accepted, revoked or expired, newest first."""
    rows = await connection.fetch(
        "SELECT id, email, name, role, created_at, expires_at FROM staff_invitation"
        " WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2"
        " ORDER BY created_at DESC, id DESC",
        tenant_id,
        now,
    )
    return [cast(InvitationRow, dict(row)) for row in rows]


_OPEN_INVITATION = """
SELECT i.id, i.tenant_id, t.slug AS operator_slug, t.name AS operator, i.email, i.name, i.role, i.expires_at,
       EXISTS (SELECT 1 FROM platform_user u WHERE lower(u.email) = lower(i.email)) AS email_taken
FROM staff_invitation i JOIN tenant t ON t.id = i.tenant_id
WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2
  AND t.status = 'active'
"""
_OPEN_INVITATION_LOCKED = _OPEN_INVITATION + "FOR UPDATE OF i"


async def open_invitation(
    connection: Connection, token_hash: str, now: datetime, *, lock: bool = False
) -> OpenInvitation | None:
    """The invitation with this token if it can still be accepted (unused, not revoked, unexpired, its operator
    active);
    ``lock`` holds its row until the transaction ends, so two submissions cannot both use it."""
    row = await connection.fetchrow(_OPEN_INVITATION_LOCKED if lock else _OPEN_INVITATION, token_hash, now)
    return cast(OpenInvitation, dict(row)) if row else None


async def create_invited_user(connection: Connection, invitation: OpenInvitation, password_hash: str) -> int | None:
    """The invited person's account, and the invitation marked used; None (nothing written) when the e-mail
    has an account by now."""
    user_id = await connection.fetchval(
        "INSERT INTO platform_user (email, name, password_hash, role, tenant_id) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT ((lower(email))) DO NOTHING RETURNING id",
        invitation["email"],
        invitation["name"],
        password_hash,
        invitation["role"],
        invitation["tenant_id"],
    )
    if user_id is None:
        return None
    await connection.execute(
        "UPDATE staff_invitation SET accepted_at = now(), user_id = $2 WHERE id = $1", invitation["id"], user_id
    )
    return int(user_id)


async def pending_invitation(tenant_id: int, invitation_id: int, now: datetime) -> InvitationRow | None:
    """One of the operator's pending invitations (not accepted, revoked or expired); None for anything else,
    another operator's included."""
    row = (
        await StaffInvitation.select(
            _invitation_pk,
            StaffInvitation.email,
            StaffInvitation.name,
            StaffInvitation.role,
            StaffInvitation.created_at,
            StaffInvitation.expires_at,
        )
        .where(*_pending(tenant_id, invitation_id, now))
        .first()
    )
    return cast(InvitationRow | None, row)


async def revoke_invitation(tenant_id: int, invitation_id: int, *, by: int, now: datetime) -> bool:
    """Withdraw a pending invitation; False when it was no longer pending (accepted or revoked meanwhile).
    The update's row lock orders it with an acceptance (``open_invitation(lock=True)``): one of them wins."""
    rows = (
        await StaffInvitation.update({StaffInvitation.revoked_at: now, StaffInvitation.revoked_by: by})
        .where(*_pending(tenant_id, invitation_id, now))
        .returning(_invitation_pk)
    )
    return bool(rows)


def _pending(tenant_id: int, invitation_id: int, now: datetime) -> tuple[Any, ...]:
    """The conditions of one pending invitation of the operator, for ``.where(*...)`` (which ANDs them)."""
    return (
        StaffInvitation.tenant == tenant_id,
        _invitation_pk == invitation_id,
        StaffInvitation.accepted_at.is_null(),
        StaffInvitation.revoked_at.is_null(),
        StaffInvitation.expires_at > now,
    )


class ClosedInvitation(TypedDict):
    """An invitation whose link no longer works, and why, for the page the link opens."""

    operator: str
    revoked: bool
    accepted: bool
    expires_at: datetime


async def closed_invitation(connection: Connection, token_hash: str) -> ClosedInvitation | None:
    """What became of the invitation with this token (None: no such token), so its link can say so."""
    row = await connection.fetchrow(
        "SELECT t.name AS operator, i.revoked_at IS NOT NULL AS revoked, i.accepted_at IS NOT NULL AS accepted,"
        " i.expires_at FROM staff_invitation i JOIN tenant t ON t.id = i.tenant_id WHERE i.token_hash = $1",
        token_hash,
    )
    return cast(ClosedInvitation, dict(row)) if row else None
