"""Portal sign-in with a one-time code by SMS.

A code is 6 random digits, stored only as an HMAC with the platform secret, valid for 5 minutes, good for 5
tries and one use. At most 3 codes per customer in 15 minutes; the answer never says whether the account
exists ("if the number is ours, a code is on its way"). The code goes out through the outbox like every message
(``otp:<id>``), with the sender asked to run at once; the stored text shows the code masked, only the gateway
gets it. Codes are stored by ``portal.queries``, in the operator's open tenant scope.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ispb_notify import Channel
from ispb_platform.notify.events import customer_values, masked, private_text
from ispb_platform.notify.outbox import enqueue
from ispb_platform.notify.queries import templates
from ispb_platform.portal import queries
from ispb_tenants import Connection, TenantRef

VALID_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 5
MAX_CODES = 3
CODES_WINDOW = timedelta(minutes=15)


def _hash(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"ispb:otp:{code}".encode(), hashlib.sha256).hexdigest()


async def send_code(
    connection: Connection, tenant: TenantRef, secret_key: str, login: str, ip: str, now: datetime
) -> bool:
    """Create and queue a code; False when the customer asked too often (or there is no such customer, which
    the caller must not reveal)."""
    customer_id = await queries.customer_by_login(login.strip())
    if customer_id is None:
        return False
    if await queries.codes_since(customer_id, now - CODES_WINDOW) >= MAX_CODES:
        return False
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp_id = await queries.add_code(customer_id, _hash(secret_key, code), now + VALID_FOR, ip)
    values = await customer_values(connection, tenant, customer_id)
    if values is None:
        return False
    # The code is a secret like a password: Sent Messages shows it masked, only the gateway gets it.
    body, sent = masked((await templates())["otp.requested"], values, {"otp": code})
    await enqueue(
        connection,
        key=f"otp:{otp_id}",
        customer_id=customer_id,
        channel=Channel.SMS,
        to=values["phone"],
        body=body,
        cause="otp.requested",
        private=private_text(body, sent, secret_key, tenant),
    )
    return True


@dataclass(frozen=True)
class Verified:
    customer_id: int


async def verify_code(secret_key: str, login: str, code: str, now: datetime) -> Verified | None:
    """The customer, when ``code`` is their latest unused, unexpired code and tries are left; each wrong try
    counts, and a right one uses the code up. Runs in the operator's open tenant scope."""
    customer_id = await queries.customer_by_login(login.strip())
    if customer_id is None:
        return None
    latest = await queries.latest_code_locked(customer_id)
    if latest is None or latest.used_at is not None or latest.expires_at <= now:
        return None
    if latest.attempts >= MAX_ATTEMPTS:
        return None
    if not hmac.compare_digest(latest.code_hash, _hash(secret_key, code.strip())):
        await queries.count_wrong_try(latest.id)
        return None
    await queries.use_code(latest.id, now)
    return Verified(customer_id)
