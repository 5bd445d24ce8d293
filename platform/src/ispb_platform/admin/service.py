"""Operator (tenant) administration: figures across tenants, provisioning with a first user, status changes."""

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from ispb_platform.auth.passwords import hash_password_async
from ispb_tenants import Database, InvalidSlug, TenantRef, create_tenant, drop_tenant, list_tenants, validate_slug


@dataclass(frozen=True)
class OperatorDraft:
    slug: str
    name: str
    timezone: str
    currency: str


def validate_operator(data: dict[str, str], *, new: bool) -> tuple[OperatorDraft | None, dict[str, str]]:
    errors: dict[str, str] = {}
    slug = data.get("slug", "").strip()
    if new:
        try:
            validate_slug(slug)
        except InvalidSlug as error:
            errors["slug"] = error.reason[0].upper() + error.reason[1:] + "."
    name = data.get("name", "").strip()
    if not name or len(name) > 120:
        errors["name"] = "Enter the operator's name (up to 120 characters)."
    timezone = data.get("timezone", "").strip() or "Asia/Dhaka"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "Enter a time zone such as Asia/Dhaka."
    currency = data.get("currency", "").strip().upper() or "BDT"
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = "Enter a 3-letter currency code such as BDT."
    if errors:
        return None, errors
    return OperatorDraft(slug, name, timezone, currency), {}


async def operator_overview(db: Database) -> list[dict[str, Any]]:
    """Every operator with its customer counts (one small query per tenant schema)."""
    overview = []
    for info in await list_tenants(db):
        async with db.tenant(info.ref) as scope:
            counts = await scope.connection.fetchrow(
                "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active FROM customer"
            )
        total, active = (counts["total"], counts["active"]) if counts else (0, 0)
        overview.append({"info": info, "customers": total, "active_customers": active})
    return overview


async def provision_operator(
    db: Database, draft: OperatorDraft, email: str, user_name: str, password: str
) -> TenantRef:
    """Create the tenant (schema and migrations) and its first operator admin. Raises TenantExists or
    ValueError('email') when the e-mail is taken; then nothing is left behind."""
    async with db.platform() as connection:
        if await connection.fetchval("SELECT 1 FROM platform_user WHERE lower(email) = lower($1)", email.strip()):
            raise ValueError("email")
    tenant = await create_tenant(db, draft.slug, draft.name, timezone=draft.timezone, currency=draft.currency)
    try:
        await add_user(db, tenant, email, user_name, password, "operator_admin")
    except asyncpg.UniqueViolationError:  # the e-mail was taken meanwhile: leave nothing behind
        await drop_tenant(db, tenant.slug)
        raise ValueError("email") from None
    return tenant


async def add_user(db: Database, tenant: TenantRef | None, email: str, name: str, password: str, role: str) -> int:
    password_hash = await hash_password_async(password)
    async with db.platform() as connection:
        user_id = await connection.fetchval(
            "INSERT INTO platform_user (email, name, password_hash, role, tenant_id) VALUES ($1, $2, $3, $4, $5)"
            " RETURNING id",
            email.strip(),
            name.strip(),
            password_hash,
            role,
            tenant.id if tenant else None,
        )
    return int(user_id)


MAX_LOGO_BYTES = 256 * 1024


def validate_contact(data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Address, phone and e-mail printed on the operator's invoices: (clean values, errors)."""
    values = {key: data.get(key, "").strip() for key in ("address", "phone", "email", "payment_instructions")}
    errors: dict[str, str] = {}
    if len(values["address"]) > 300:
        errors["address"] = "Keep the address under 300 characters."
    if len(values["payment_instructions"]) > 1000:
        errors["payment_instructions"] = "Keep the payment instructions under 1,000 characters."
    if len(values["phone"]) > 40:
        errors["phone"] = "Keep the phone number under 40 characters."
    if values["email"] and ("@" not in values["email"] or " " in values["email"] or len(values["email"]) > 200):
        errors["email"] = "Enter an e-mail address such as billing@example.com, or leave it empty."
    return values, errors


def logo_type(content: bytes) -> str | None:
    """The mime type of a PNG, JPEG or SVG logo, judged by its bytes (never by the file name); else None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = content[:1024].lstrip().lower()
    if (head.startswith(b"<svg") or head.startswith(b"<?xml")) and b"<svg" in head:
        return "image/svg+xml"
    return None
