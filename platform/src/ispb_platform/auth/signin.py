"""Checking credentials, with rate limits and without revealing which accounts exist."""

from dataclasses import dataclass

from ispb_platform.auth.passwords import hash_password_async, needs_rehash, verify_password_async
from ispb_platform.auth.throttle import Limit, clear, limits_for, locked_for, record_failure, wait_message
from ispb_tenants import Database, TenantRef

WRONG_CREDENTIALS = "The sign-in details are not correct."
_dummy_hash: str | None = None


async def _dummy() -> str:
    """Verified when the account does not exist, so a wrong login costs the same time as a wrong password.
    Made on first need, off the event loop: at import it cost every process (CLI, worker) half a second."""
    global _dummy_hash  # one per process; two racing first uses make equivalent hashes
    if _dummy_hash is None:
        _dummy_hash = await hash_password_async("not a real password, only here to spend the same time")
    return _dummy_hash


@dataclass(frozen=True)
class SignInResult:
    user_id: int | None
    error: str | None = None
    tenant_id: int | None = None
    """A staff member's operator (None for platform and group admins, and for customers)."""
    role: str | None = None
    """A staff member's role (None for customers)."""


async def _check(
    db: Database, limits: list[Limit], row: dict[str, object] | None, password: str
) -> SignInResult | None:
    """Rate limit and password check shared by staff and customers; None means the password is right."""
    wait = await locked_for(db, limits)
    if wait is not None:
        return SignInResult(None, wait_message(wait))
    stored = str(row["password_hash"]) if row and row.get("password_hash") else await _dummy()
    if not await verify_password_async(stored, password) or row is None or not row.get("password_hash"):
        await record_failure(db, limits)
        return SignInResult(None, WRONG_CREDENTIALS)
    await clear(db, limits)
    return None


async def sign_in_staff(db: Database, email: str, password: str, ip: str) -> SignInResult:
    limits = limits_for("staff", email, ip)
    async with db.platform() as connection:
        record = await connection.fetchrow(
            "SELECT u.id, u.password_hash, u.tenant_id, u.role, t.status AS tenant_status FROM platform_user u"
            " LEFT JOIN tenant t ON t.id = u.tenant_id WHERE lower(u.email) = lower($1) AND u.is_active",
            email.strip(),
        )
    row = dict(record) if record else None
    failed = await _check(db, limits, row, password)
    if failed is not None:
        return failed
    assert row is not None
    if row["tenant_status"] not in (None, "active"):
        return SignInResult(None, "This operator's account is suspended. Contact the platform administrator.")
    rehashed = await hash_password_async(password) if needs_rehash(str(row["password_hash"])) else None
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE platform_user SET last_login_at = now(), password_hash = COALESCE($2, password_hash) WHERE id = $1",
            row["id"],
            rehashed,
        )
    tenant_id = row["tenant_id"]
    return SignInResult(
        int(str(row["id"])), tenant_id=None if tenant_id is None else int(str(tenant_id)), role=str(row["role"])
    )


async def sign_in_customer(db: Database, tenant: TenantRef, login: str, password: str, ip: str) -> SignInResult:
    """Customers sign in to their operator's portal with their customer id or mobile number."""
    limits = limits_for(f"portal:{tenant.id}", login, ip)
    async with db.tenant(tenant) as scope:
        record = await scope.connection.fetchrow(
            "SELECT id, password_hash FROM customer WHERE status <> 'disabled'"
            " AND (lower(code) = lower($1) OR phone = $2 OR phone = '+88' || $1) ORDER BY id LIMIT 1",
            login.strip(),
            login.strip(),
        )
    row = dict(record) if record else None
    failed = await _check(db, limits, row, password)
    if failed is not None:
        return failed
    assert row is not None
    if needs_rehash(str(row["password_hash"])):
        rehashed = await hash_password_async(password)
        async with db.tenant(tenant) as scope:
            await scope.connection.execute("UPDATE customer SET password_hash = $2 WHERE id = $1", row["id"], rehashed)
    return SignInResult(int(str(row["id"])))
