"""Sign-in rate limits per account and per address (DESIGN 6).

Failures are counted per key in a sliding window; past the limit the key is locked for a while. The same
message answers a locked real account and a locked unknown one, so the limit does not reveal which exist.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ispb_tenants import Database

WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


def account_limit(scope: str, login: str) -> Limit:
    """5 wrong passwords for one account (per portal for customers) within 15 minutes."""
    return Limit(f"account:{scope}:{login.strip().lower()}", 5)


def address_limit(ip: str) -> Limit:
    """30 failures from one address within 15 minutes, whatever accounts it tries."""
    return Limit(f"address:{ip}", 30)


async def locked_for(db: Database, limits: list[Limit], now: datetime | None = None) -> timedelta | None:
    """How long until the most locked key opens again; None when none is locked."""
    now = now or datetime.now(UTC)
    async with db.platform() as connection:
        until = await connection.fetchval(
            "SELECT max(locked_until) FROM auth_throttle WHERE key = ANY($1::text[]) AND locked_until > $2",
            [limit.key for limit in limits],
            now,
        )
    return until - now if until else None


async def record_failure(db: Database, limits: list[Limit], now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    async with db.platform() as connection:
        for limit in limits:
            await connection.execute(
                """
                INSERT INTO auth_throttle AS t (key, failures, window_started_at) VALUES ($1, 1, $2)
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN t.window_started_at < $2::timestamptz - $3::interval
                                    THEN 1 ELSE t.failures + 1 END,
                    window_started_at = CASE WHEN t.window_started_at < $2::timestamptz - $3::interval
                                             THEN $2 ELSE t.window_started_at END
                """,
                limit.key,
                now,
                WINDOW,
            )
            await connection.execute(
                "UPDATE auth_throttle SET locked_until = $2::timestamptz + $3::interval"
                " WHERE key = $1 AND failures >= $4",
                limit.key,
                now,
                LOCK,
                limit.max_failures,
            )


async def clear(db: Database, limit: Limit) -> None:
    """A successful sign-in clears its account's failures (not the address's)."""
    async with db.platform() as connection:
        await connection.execute("DELETE FROM auth_throttle WHERE key = $1", limit.key)
