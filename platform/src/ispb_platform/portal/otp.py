"""Portal sign-in with a one-time code by SMS.

A code is 6 random digits, stored only as an HMAC with the platform secret, valid for 5 minutes, good for 5
tries and one use. At most 3 codes per customer in 15 minutes; the answer never says whether the account
exists ("if the number is ours, a code is on its way"). The code goes out through the outbox like every message
(``otp:<id>``), with the sender asked to run at once.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ispb_notify import Channel, render
from ispb_platform.notify import queries
from ispb_platform.notify.events import customer_values
from ispb_platform.notify.outbox import enqueue
from ispb_tenants import Connection, TenantRef

VALID_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_CODES = 3
CODES_WINDOW = timedelta(minutes=15)


def _hash(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"ispb:otp:{code}".encode(), hashlib.sha256).hexdigest()


async def find_customer(connection: Connection, login: str) -> int | None:
    customer_id = await connection.fetchval(
        "SELECT id FROM customer WHERE status <> 'disabled' AND (lower(code) = lower($1) OR phone = $2"
        " OR phone = '+88' || $1) ORDER BY id LIMIT 1",
        login.strip(),
        login.strip(),
    )
    return int(customer_id) if customer_id is not None else None


async def send_code(
    connection: Connection, tenant: TenantRef, secret_key: str, login: str, ip: str, now: datetime
) -> bool:
    """Create and queue a code; False when the customer asked too often (or there is no such customer, which
    the caller must not reveal)."""
    customer_id = await find_customer(connection, login)
    if customer_id is None:
        return False
    recent = await connection.fetchval(
        "SELECT count(*) FROM otp_code WHERE customer_id = $1 AND created_at > $2", customer_id, now - CODES_WINDOW
    )
    if recent >= MAX_CODES:
        return False
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp_id = await connection.fetchval(
        "INSERT INTO otp_code (customer_id, code_hash, expires_at, ip) VALUES ($1, $2, $3, $4) RETURNING id",
        customer_id,
        _hash(secret_key, code),
        now + VALID_FOR,
        ip,
    )
    values = await customer_values(connection, tenant, customer_id)
    if values is None:
        return False
    body = render((await queries.templates())["otp.requested"], values | {"otp": code})
    await enqueue(
        connection,
        key=f"otp:{otp_id}",
        customer_id=customer_id,
        channel=Channel.SMS,
        to=values["phone"],
        body=body,
        cause="otp.requested",
    )
    return True


@dataclass(frozen=True)
class Verified:
    customer_id: int


async def verify_code(connection: Connection, secret_key: str, login: str, code: str, now: datetime) -> Verified | None:
    """The customer, when ``code`` is their latest unused, unexpired code and tries are left; each wrong try
    counts, and a right one uses the code up."""
    customer_id = await find_customer(connection, login)
    if customer_id is None:
        return None
    latest = await connection.fetchrow(
        "SELECT id, code_hash, expires_at, attempts, used_at FROM otp_code WHERE customer_id = $1"
        " ORDER BY id DESC LIMIT 1 FOR UPDATE",
        customer_id,
    )
    if latest is None or latest["used_at"] is not None or latest["expires_at"] <= now:
        return None
    if latest["attempts"] >= MAX_ATTEMPTS:
        return None
    if not hmac.compare_digest(latest["code_hash"], _hash(secret_key, code.strip())):
        await connection.execute("UPDATE otp_code SET attempts = attempts + 1 WHERE id = $1", latest["id"])
        return None
    await connection.execute("UPDATE otp_code SET used_at = $2 WHERE id = $1", latest["id"], now)
    return Verified(customer_id)
