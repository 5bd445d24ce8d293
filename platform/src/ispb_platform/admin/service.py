"""Operator (tenant) administration: figures across tenants, provisioning with a first user, status and details
changes, and the operator's users, each change written to the operator's own activity log.

The admin console works on an operator named in the URL, so these use cases open that operator's scope
themselves (``db.tenant(tenant)``) rather than the signed-in person's (a platform admin has no tenant).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from ispb_platform.activity import queries as activity_queries
from ispb_platform.activity.queries import ActivityEntry
from ispb_platform.activity.service import record_activity
from ispb_platform.admin import queries
from ispb_platform.admin.forms import OperatorDraft
from ispb_platform.admin.queries import OperatorDetails
from ispb_platform.auth.passwords import hash_password_async
from ispb_platform.auth.roles import Principal
from ispb_platform.staff import queries as staff_queries
from ispb_platform.staff import service as staff
from ispb_platform.staff.forms import ROLES, StaffDraft, validate_staff
from ispb_platform.staff.queries import StaffRow
from ispb_tenants import Database, TenantInfo, TenantRef, create_tenant, drop_tenant, list_tenants


@dataclass(frozen=True)
class Actor:
    """Who acts in the console, for the activity log."""

    principal: Principal | None
    ip: str


class AccountRefused(ValueError):
    """A first account the command line cannot create; the message says why and what to do."""


def checked_account(email: str, name: str, password: str) -> StaffDraft:
    """The same rules as the console's user form (name, e-mail shape, password length), as one message."""
    data = {"email": email, "user_name": name, "password": password, "role": "operator_admin"}
    draft, errors = validate_staff(data, new=True)
    if draft is None:
        raise AccountRefused(" ".join(errors.values()))
    return draft


async def create_platform_admin(db: Database, email: str, name: str, password: str) -> int:
    """The first (or another) platform administrator, for ``ispb admin create`` on a fresh installation.

    The password is hashed with argon2id like every other; an e-mail already in use is refused."""
    draft = checked_account(email, name, password)
    async with db.platform():
        if await queries.email_taken(draft.email):
            raise AccountRefused(f"a user with the e-mail {draft.email} already exists; nothing was changed")
    try:
        return await add_user(db, None, draft.email, draft.name, draft.password, "platform_admin")
    except asyncpg.UniqueViolationError:  # created meanwhile
        raise AccountRefused(f"a user with the e-mail {draft.email} already exists; nothing was changed") from None


async def provision_operator_with_owner(
    db: Database, draft: OperatorDraft, email: str, owner_name: str, password: str
) -> TenantRef:
    """``ispb tenants create --owner``: the operator and its first operator admin, both or neither."""
    owner = checked_account(email, owner_name, password)
    try:
        return await provision_operator(db, draft, owner.email, owner.name, owner.password, Actor(None, ""))
    except ValueError as error:
        if str(error) != "email":
            raise
        raise AccountRefused(f"a user with the e-mail {owner.email} already exists; nothing was created") from None


async def operator_overview(db: Database) -> list[dict[str, Any]]:
    """Every operator with its customer counts (one small query per tenant schema)."""
    overview = []
    for info in await list_tenants(db):
        async with db.tenant(info.ref):
            total, active = await queries.customer_counts()
        overview.append({"info": info, "customers": total, "active_customers": active})
    return overview


def dashboard_figures(operators: list[dict[str, Any]]) -> dict[str, int]:
    info: list[TenantInfo] = [o["info"] for o in operators]
    return {
        "operators": len(operators),
        "active_operators": sum(i.status == "active" for i in info),
        "customers": sum(o["customers"] for o in operators),
        "active_customers": sum(o["active_customers"] for o in operators),
    }


async def operator_clashes(db: Database, *, slug: str | None, email: str | None) -> dict[str, str]:
    """A slug another operator has and an e-mail another user signs in with, as field errors.

    Asked together with the form's own checks, so one answer names every problem (a clash used to come in a
    second round, after the other fields passed). ``None`` skips a value the form already refused. Creating
    still catches a clash made meanwhile (``TenantExists``, ``ValueError('email')``).
    """
    errors: dict[str, str] = {}
    async with db.platform():
        if slug and await queries.slug_taken(slug):
            errors["slug"] = f"The slug {slug!r} is already taken."
        if email and await queries.email_taken(email):
            errors["email"] = "Another user already has this e-mail address."
    return errors


async def provision_operator(
    db: Database, draft: OperatorDraft, email: str, user_name: str, password: str, actor: Actor
) -> TenantRef:
    """Create the tenant (schema and migrations) and its first operator admin. Raises TenantExists or
    ValueError('email') when the e-mail is taken; then nothing is left behind."""
    async with db.platform():
        if await queries.email_taken(email.strip()):
            raise ValueError("email")
    tenant = await create_tenant(db, draft.slug, draft.name, timezone=draft.timezone, currency=draft.currency)
    try:
        await add_user(db, tenant, email, user_name, password, "operator_admin")
    except asyncpg.UniqueViolationError:  # the e-mail was taken meanwhile: leave nothing behind
        await drop_tenant(db, tenant.slug)
        raise ValueError("email") from None
    async with db.tenant(tenant) as scope:
        await record_activity(
            scope,
            actor.principal,
            "operator.created",
            object_type="operator",
            object_id=tenant.slug,
            summary=f"Operator {tenant.name} created",
            ip=actor.ip,
        )
    return tenant


async def add_operator_owner(db: Database, tenant: TenantRef, email: str, name: str, password: str) -> int:
    """The first operator admin of an operator restored as a new one (``ispb backup restore --as --owner``):
    staff accounts live in the platform schema, not in a backup of the operator's, so the copy has none.
    Raises `AccountRefused` when the e-mail is taken (checked before the restore, and again here: it may have
    been taken meanwhile)."""
    owner = checked_account(email, name, password)
    try:
        return await add_operator_user(db, tenant, owner, Actor(None, ""))
    except staff_queries.EmailTaken:
        raise AccountRefused(f"a user with the e-mail {owner.email} already exists") from None


async def email_in_use(db: Database, email: str) -> bool:
    async with db.platform():
        return await queries.email_taken(email.strip())


async def add_user(db: Database, tenant: TenantRef | None, email: str, name: str, password: str, role: str) -> int:
    password_hash = await hash_password_async(password)
    async with db.platform():
        return await queries.insert_user(
            email.strip(), name.strip(), password_hash, role, tenant.id if tenant else None
        )


async def change_status(db: Database, tenant: TenantRef, status: str, actor: Actor, *, reason: str = "") -> None:
    """Suspend or reactivate an operator; a suspended operator's panel closes at once, not at next sign-in.
    The reason (required to suspend, asked on the confirmation page) goes into the operator's activity log,
    which its admins read when they are back and the console's operator page shows."""
    async with db.tenant(tenant) as scope:
        changed = await queries.set_tenant_status(tenant.id, status)
        if status == "suspended":
            await queries.end_tenant_sessions(tenant.id)
        if changed:
            await record_activity(
                scope,
                actor.principal,
                f"operator.{status}",
                object_type="operator",
                object_id=tenant.slug,
                summary=f"Operator {status} by the platform" + (f": {reason}" if reason else ""),
                details={"reason": reason} if reason else None,
                ip=actor.ip,
            )


async def operator_form(db: Database, tenant: TenantRef) -> tuple[OperatorDetails, bool]:
    """The operator's editable details and whether it has a logo."""
    async with db.platform():
        details = await queries.operator_details(tenant.id)
        logo = await queries.has_logo(tenant.id)
    if details is None:
        raise LookupError(tenant.slug)
    return details, logo


async def update_operator(
    db: Database,
    tenant: TenantRef,
    details: OperatorDetails,
    *,
    logo: tuple[bytes, str] | None,
    remove_logo: bool,
    actor: Actor,
) -> None:
    """Save the operator's details (and logo: a new one, or removed), logging which fields changed."""
    async with db.tenant(tenant) as scope:
        before = await queries.operator_details(tenant.id)
        if before is None:
            raise LookupError(tenant.slug)
        await queries.update_details(tenant.id, details)
        old: Mapping[str, object] = before
        new: Mapping[str, object] = details
        changed = [k for k in new if old[k] != new[k]]
        if logo is not None or remove_logo:
            await queries.set_logo(tenant.id, logo)
            changed.append("logo")
        await record_activity(
            scope,
            actor.principal,
            "operator.updated",
            object_type="operator",
            object_id=tenant.slug,
            summary=f"Operator details changed by the platform ({', '.join(changed) or 'no change'})",
            details={"changed": changed},
            ip=actor.ip,
        )


@dataclass(frozen=True)
class OperatorPage:
    status: str | None
    users: list[StaffRow]
    history: list[ActivityEntry]
    """The newest activity about the operator and its people (suspensions with their reasons among them)."""


HISTORY_LENGTH = 20


async def operator_page(db: Database, tenant: TenantRef) -> OperatorPage:
    """The operator's status, its users and the latest changes to either."""
    async with db.tenant(tenant):
        return OperatorPage(
            await queries.tenant_status(tenant.id),
            await staff_queries.list_staff(tenant.id),
            await activity_queries.latest_about(("operator", "staff"), limit=HISTORY_LENGTH),
        )


async def operator_user(db: Database, tenant: TenantRef, user_id: int) -> StaffRow | None:
    """One of the operator's users; None for anyone else."""
    async with db.tenant(tenant):
        return await staff_queries.get_staff(tenant.id, user_id)


async def add_operator_user(db: Database, tenant: TenantRef, draft: StaffDraft, actor: Actor) -> int:
    """Add a user to the operator; raises `staff.queries.EmailTaken`."""
    async with db.tenant(tenant) as scope:
        user_id = await staff.add_staff(scope, tenant.id, draft)
        await record_activity(
            scope,
            actor.principal,
            "staff.added",
            object_type="staff",
            object_id=user_id,
            summary=f"Platform added {ROLES[draft.role].lower()} {draft.name} <{draft.email}>",
            ip=actor.ip,
        )
    return user_id


async def change_user_status(
    db: Database, tenant: TenantRef, user_id: int, active: bool, actor: Actor, *, reason: str = ""
) -> None:
    """Enable or disable (with a reason, for the operator's activity log) one of the operator's users; raises
    LookupError for a user not of this operator and `staff.service.StaffRuleBroken` when the rules refuse."""
    acting_user_id = actor.principal.user_id if actor.principal else 0
    async with db.tenant(tenant) as scope:
        person = await staff_queries.get_staff(tenant.id, user_id)
        if person is None:
            raise LookupError(user_id)
        if await staff.set_active(tenant.id, user_id, active, acting_user_id=acting_user_id):
            await record_activity(
                scope,
                actor.principal,
                f"staff.{'enabled' if active else 'disabled'}",
                object_type="staff",
                object_id=user_id,
                summary=f"Platform {'enabled' if active else 'disabled'} {person['email']}"
                + (f": {reason}" if reason else ""),
                details={"reason": reason} if reason else None,
                ip=actor.ip,
            )
