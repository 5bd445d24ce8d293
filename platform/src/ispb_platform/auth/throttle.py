"""Sign-in rate limits that stop guessing without letting anyone lock an owner out (DESIGN 6, OWASP ASVS 2.2.1).

Three counters per attempt, failures only, each in its own window (``platform.auth_throttle``, one row a key):

- **the pair (account, source address)**: 5 failures in 15 minutes lock that pair for 15 minutes. An attacker's
  address is shut out of the account it guesses at; the owner's address is a different pair and is not.
  Attempts refused by a lock are not counted anywhere, so hammering a locked pair does not grow the account's
  counter either.
- **the account** (whatever address): a slow-down, never a lock-out. The first 10 failures in an hour cost
  nothing; each further failure makes the account wait 1, 2, 4 ... seconds, capped at 60, before the next try
  from anywhere (refused with "try again in N seconds" meanwhile). A guesser spread over many addresses gets
  at most about 70 tries an hour; the owner waits at most a minute.
- **the source address** (whatever accounts): 30 failures in 15 minutes lock the address for 15 minutes
  (credential stuffing and password spraying). An IPv6 address counts by its /64, as one subscriber's network.

A successful sign-in clears its pair and its account (not the address). Keys are built from the login as typed,
so an unknown account is counted and refused exactly like a real one and the limits reveal nothing.
"""

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ispb_tenants import Database


@dataclass(frozen=True)
class Limit:
    """One counter: after ``free`` failures within ``window``, each failure imposes a wait before the next try.

    The wait is ``first_wait`` doubled per failure beyond ``free``, capped at ``max_wait`` (a fixed lock when
    both are equal).
    """

    key: str
    window: timedelta
    free: int
    first_wait: timedelta
    max_wait: timedelta

    def wait_after(self, failures: int) -> timedelta | None:
        """The wait imposed after the ``failures``-th failure in the window; None while failures are free."""
        if failures <= self.free:
            return None
        doubled: timedelta = self.first_wait * 2 ** min(failures - self.free - 1, 20)
        return min(doubled, self.max_wait)


def _login(login: str) -> str:
    return login.strip().lower()


def _source(ip: str) -> str:
    """The address as counted: an IPv6 address by its /64 (one subscriber's network hands out many)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def pair_limit(scope: str, login: str, ip: str) -> Limit:
    """5 failures for one account from one address within 15 minutes lock that pair for 15 minutes."""
    lock = timedelta(minutes=15)
    return Limit(f"pair:{scope}:{_login(login)}:{_source(ip)}", timedelta(minutes=15), 4, lock, lock)


def account_limit(scope: str, login: str) -> Limit:
    """Past 10 failures within an hour, from any addresses, the account slows down: 1 s, 2 s, ... at most 60 s."""
    return Limit(f"account:{scope}:{_login(login)}", timedelta(hours=1), 10, timedelta(seconds=1), timedelta(minutes=1))


def address_limit(ip: str) -> Limit:
    """30 failures from one address within 15 minutes, whatever accounts it tries, lock it for 15 minutes."""
    lock = timedelta(minutes=15)
    return Limit(f"address:{_source(ip)}", timedelta(minutes=15), 29, lock, lock)


def limits_for(scope: str, login: str, ip: str) -> list[Limit]:
    """The three counters of one attempt (``scope`` separates staff, each portal and each portal's codes)."""
    return [pair_limit(scope, login, ip), account_limit(scope, login), address_limit(ip)]


def wait_message(wait: timedelta) -> str:
    """The one answer for any refused attempt, whichever counter refused it and whether the account exists."""
    seconds = max(1, int(-(-wait.total_seconds() // 1)))
    if seconds < 60:
        return f"Too many sign-in attempts. Try again in {seconds} second{'s' if seconds != 1 else ''}."
    minutes = max(1, round(seconds / 60))
    return f"Too many sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


async def locked_for(db: Database, limits: list[Limit], now: datetime | None = None) -> timedelta | None:
    """How long until every key of the attempt is open again; None when none is closed."""
    now = now or datetime.now(UTC)
    # SQL: the platform's own bookkeeping table, one indexed read by primary keys.
    async with db.platform() as connection:
        until = await connection.fetchval(
            "SELECT max(locked_until) FROM auth_throttle WHERE key = ANY($1::text[]) AND locked_until > $2",
            [limit.key for limit in limits],
            now,
        )
    return until - now if until else None


async def record_failure(db: Database, limits: list[Limit], now: datetime | None = None) -> None:
    """Count one failure on every key (a window older than its limit's restarts at 1) and impose its wait."""
    now = now or datetime.now(UTC)
    async with db.platform() as connection:
        for limit in limits:
            # SQL: an atomic upsert, so concurrent failures are all counted.
            failures = await connection.fetchval(
                """
                INSERT INTO auth_throttle AS t (key, failures, window_started_at) VALUES ($1, 1, $2)
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN t.window_started_at < $2::timestamptz - $3::interval
                                    THEN 1 ELSE t.failures + 1 END,
                    window_started_at = CASE WHEN t.window_started_at < $2::timestamptz - $3::interval
                                             THEN $2 ELSE t.window_started_at END
                RETURNING failures
                """,
                limit.key,
                now,
                limit.window,
            )
            wait = limit.wait_after(int(failures))
            if wait is not None:
                await connection.execute(
                    "UPDATE auth_throttle SET locked_until = $2::timestamptz + $3::interval WHERE key = $1",
                    limit.key,
                    now,
                    wait,
                )


async def clear(db: Database, limits: list[Limit]) -> None:
    """A successful sign-in clears its pair's and its account's failures (not the address's)."""
    keys = [limit.key for limit in limits if not limit.key.startswith("address:")]
    async with db.platform() as connection:
        await connection.execute("DELETE FROM auth_throttle WHERE key = ANY($1::text[])", keys)
