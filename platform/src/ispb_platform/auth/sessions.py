"""Server-side sessions in ``platform.web_session`` (DESIGN 6, 10).

The browser holds a random token in a ``__Host-`` cookie (``HttpOnly; Secure; SameSite=Lax``); the database
holds only its SHA-256, so reading the table does not let anyone sign in. Sessions end after an idle period
or an absolute lifetime, whichever comes first; signing in always starts a new session (rotation), and
"sign out everywhere" deletes every session of the person.
"""

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from ispb_platform.auth.roles import Principal, Role, SessionKind
from ispb_tenants import Database, TenantRef

IDLE_TIMEOUT = {SessionKind.STAFF: timedelta(hours=12), SessionKind.CUSTOMER: timedelta(hours=2)}
ABSOLUTE_LIFETIME = {SessionKind.STAFF: timedelta(days=7), SessionKind.CUSTOMER: timedelta(days=30)}
TOUCH_EVERY = timedelta(minutes=1)


def cookie_name(secure: bool) -> str:
    """``__Host-`` binds the cookie to this host and path ``/``; browsers accept it only when Secure."""
    return "__Host-ispb_session" if secure else "ispb_session"


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(
    db: Database,
    *,
    kind: SessionKind,
    user_id: int,
    tenant_id: int | None,
    ip: str,
    user_agent: str,
    replacing: str | None = None,
    welcome: str = "",
) -> str:
    """Create a session and return the cookie token. ``replacing`` (the old token, if any) is ended.
    ``welcome``: a flash message for the session's first page (the request that signs in has no session
    of its own to carry one, ``web/flash.py``)."""
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + ABSOLUTE_LIFETIME[kind]
    flash = [{"kind": "notice", "text": welcome[:FLASH_LENGTH]}] if welcome else []
    async with db.platform() as connection:
        if replacing:
            await connection.execute("DELETE FROM web_session WHERE id = $1", _session_id(replacing))
        await connection.execute(
            "INSERT INTO web_session (id, kind, user_id, tenant_id, expires_at, ip, user_agent, flash)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
            _session_id(token),
            kind.value,
            user_id,
            tenant_id,
            expires,
            ip[:64],
            user_agent[:300],
            json.dumps(flash),
        )
    return token


_LOAD_STAFF = """
SELECT s.id AS session_id, s.last_seen_at, s.expires_at, u.id AS user_id, u.role, u.name, u.email AS login,
       t.id AS tenant_id, t.slug, t.schema_name, t.name AS tenant_name, t.timezone, t.currency, t.status,
       ts.locked_at IS NOT NULL AS locked
FROM web_session s
JOIN platform_user u ON u.id = s.user_id AND u.is_active
LEFT JOIN tenant t ON t.id = u.tenant_id
LEFT JOIN tenant_subscription ts ON ts.tenant_id = t.id
WHERE s.id = $1 AND s.kind = 'staff'
"""

_LOAD_CUSTOMER = """
SELECT s.id AS session_id, s.last_seen_at, s.expires_at, s.user_id,
       t.id AS tenant_id, t.slug, t.schema_name, t.name AS tenant_name, t.timezone, t.currency, t.status
FROM web_session s JOIN tenant t ON t.id = s.tenant_id
WHERE s.id = $1 AND s.kind = 'customer'
"""


async def load_principal(db: Database, token: str, now: datetime | None = None) -> Principal | None:
    """The person a session token belongs to, or None when it is unknown, expired, idle or disabled."""
    now = now or datetime.now(UTC)
    session_id = _session_id(token)
    async with db.platform() as connection:
        row = await connection.fetchrow(_LOAD_STAFF, session_id)
        kind = SessionKind.STAFF
        if row is None:
            row = await connection.fetchrow(_LOAD_CUSTOMER, session_id)
            kind = SessionKind.CUSTOMER
        if row is None:
            return None
        if row["expires_at"] <= now or row["last_seen_at"] + IDLE_TIMEOUT[kind] <= now:
            await connection.execute("DELETE FROM web_session WHERE id = $1", session_id)
            return None
        if now - row["last_seen_at"] >= TOUCH_EVERY:
            await connection.execute("UPDATE web_session SET last_seen_at = $2 WHERE id = $1", session_id, now)
    tenant = _tenant(row)
    if tenant is not None and row["status"] != "active":
        return None  # a suspended operator's panel and portal are closed
    if kind is SessionKind.STAFF:
        locked = bool(row["locked"])  # an unpaid subscription bill: the panel answers its locked page only
        return Principal(session_id, kind, row["user_id"], Role(row["role"]), row["name"], row["login"], tenant, locked)
    assert tenant is not None
    async with db.tenant(tenant) as scope:
        customer = await scope.connection.fetchrow(
            "SELECT name, code FROM customer WHERE id = $1 AND status <> 'disabled'", row["user_id"]
        )
    if customer is None:
        return None
    return Principal(session_id, kind, row["user_id"], Role.CUSTOMER, customer["name"], customer["code"], tenant)


def _tenant(row: object) -> TenantRef | None:
    values = dict(row)  # type: ignore[call-overload]
    if values["tenant_id"] is None:
        return None
    return TenantRef(
        id=values["tenant_id"],
        slug=values["slug"],
        schema=values["schema_name"],
        name=values["tenant_name"],
        timezone=values["timezone"],
        currency=values["currency"],
    )


FLASH_KEEP = 5  # messages waiting for the next page; older ones give way (someone posting without looking)
FLASH_LENGTH = 300


async def add_flash(db: Database, session_id: str, messages: list[dict[str, str]]) -> None:
    """Queue messages (``{"kind": "notice" | "alert", "text": ...}``) for the session's next full page
    (``web/flash.py``)."""
    texts = [{"kind": m["kind"], "text": m["text"][:FLASH_LENGTH]} for m in messages][-FLASH_KEEP:]
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE web_session SET flash = CASE WHEN jsonb_array_length(flash) + $3 > $4 THEN $2::jsonb"
            " ELSE flash || $2::jsonb END WHERE id = $1",
            session_id,
            json.dumps(texts),
            len(texts),
            FLASH_KEEP,
        )


async def take_flash(db: Database, session_id: str) -> list[dict[str, str]]:
    """The session's waiting messages, emptied in the same statement so each shows once."""
    async with db.platform() as connection:
        taken = await connection.fetchval(
            "UPDATE web_session s SET flash = '[]' FROM web_session old"
            " WHERE s.id = $1 AND old.id = s.id AND s.flash <> '[]' RETURNING old.flash",
            session_id,
        )
    return [{"kind": str(m["kind"]), "text": str(m["text"])} for m in json.loads(taken)] if taken else []


async def end_session(db: Database, session_id: str) -> None:
    async with db.platform() as connection:
        await connection.execute("DELETE FROM web_session WHERE id = $1", session_id)


async def end_all_sessions(db: Database, principal: Principal) -> int:
    """Sign the person out on every device; returns how many sessions ended."""
    async with db.platform() as connection:
        status = await connection.execute(
            "DELETE FROM web_session WHERE kind = $1 AND user_id = $2 AND tenant_id IS NOT DISTINCT FROM $3",
            principal.kind.value,
            principal.user_id,
            principal.tenant.id if principal.tenant else None,
        )
    return int(status.split()[-1])
