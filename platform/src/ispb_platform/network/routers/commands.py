"""Router commands: what a suspension, reactivation or package change must do on the customer's router.

A command is a row of ``router_command`` written in the business transaction (so it exists exactly when the
status change committed), then executed after commit: at once through the job queue (``kick``), and by the
``netsync.router_commands`` job every minute for anything due. Each action is a sequence of idempotent
"ensure" operations, so a retry after a timeout, or a command run twice, changes nothing more. A router that
is down never blocks billing: the command stays pending with its error and attempts visible, retried with
exponential backoff (30 s doubling to 30 min) until the router answers. Commands of one tenant run one at a
time and each router's in order over one API session, several routers at once, so a suspension never
overtakes the reactivation that followed it and 30,000 suspensions do not sign in 30,000 times.

SQL here, not Piccolo: a run holds a session-level advisory lock on its own pool connection across many short
tenant transactions, loads each command with its router, customer and package in one join, and records the
outcome with relative updates (``attempts + 1``, ``payload || ...``, ``now() + backoff``); ``enqueue_commands``
supersedes and inserts in the caller's business transaction, on the connection it is given. The Routers page's
reads and writes are Piccolo queries in ``queries.py``.
"""

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from saq import Queue

from ispb_netsync.radius import RadiusError, coa, disconnect
from ispb_netsync.routeros import RouterError, RouterSession, RouterTrap, rate_limit
from ispb_platform.jobs.job import Counts
from ispb_platform.jobs.queue import run_soon
from ispb_platform.network.routers.queries import address_of
from ispb_platform.secrets_box import Binding, Purpose, SealError, reveal
from ispb_tenants import Connection, Database, TenantRef

SUSPENDED_LIST = "ispb-suspended"
"""The address list the router's redirect rule sends to the suspension portal."""
SUSPENDED_PROFILE = "ispb-suspended"
SUSPENDED_RATE = "256k/256k"
BATCH = 500
MAX_BACKOFF = timedelta(minutes=30)


def package_profile(package_id: int) -> str:
    """The PPP profile ISPB keeps on API-managed routers for a package."""
    return f"ispb-package-{package_id}"


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


# One statement for any number of customers: supersede their pending suspend/activate commands (only when the
# new command is one of those) and queue the new one for each customer that has a router, in customer id order.
_ENQUEUE = """
WITH target AS (
    SELECT id, router_id FROM customer WHERE id = ANY($1::int[]) AND router_id IS NOT NULL
), superseded AS (
    UPDATE router_command SET status = 'superseded', done_at = now()
    WHERE $2 IN ('suspend', 'activate') AND customer_id = ANY(ARRAY(SELECT id FROM target)) AND status = 'pending'
      AND action IN ('suspend', 'activate')
)
INSERT INTO router_command (router_id, customer_id, action, payload)
SELECT router_id, id, $2, $3::jsonb FROM target ORDER BY id
RETURNING id, customer_id
"""


async def enqueue_commands(
    connection: Connection, customer_ids: Sequence[int], action: str, payload: dict[str, Any] | None = None
) -> dict[int, int]:
    """Queue ``action`` for each customer's router in the caller's transaction, in one statement; returns
    {customer id: command id} for the customers that have a router.

    A pending opposite command of the same customer (a suspension not yet run when the reactivation comes)
    is superseded: only the latest intent reaches the router.
    """
    if not customer_ids:
        return {}
    rows = await connection.fetch(_ENQUEUE, list(customer_ids), action, json.dumps(payload or {}))
    return {int(r["customer_id"]): int(r["id"]) for r in rows}


# Router-level commands (no customer: a package's PPP profile), one per router, superseding a pending one of the
# same action for the same package on that router: only the latest edit needs to reach it.
_ENQUEUE_ROUTER = """
WITH superseded AS (
    UPDATE router_command SET status = 'superseded', done_at = now()
    WHERE router_id = ANY($1::int[]) AND customer_id IS NULL AND action = $2 AND status = 'pending'
      AND payload ->> 'package_id' IS NOT DISTINCT FROM $3::jsonb ->> 'package_id'
)
INSERT INTO router_command (router_id, action, payload)
SELECT r.id, $2, $3::jsonb FROM router r WHERE r.id = ANY($1::int[]) ORDER BY r.id
RETURNING id, router_id
"""


async def enqueue_router_commands(
    connection: Connection, router_ids: Sequence[int], action: str, payload: dict[str, Any]
) -> dict[int, int]:
    """Queue a router-level ``action`` (e.g. ``apply_profile``) for each router, in the caller's transaction;
    returns {router id: command id}."""
    if not router_ids:
        return {}
    rows = await connection.fetch(_ENQUEUE_ROUTER, list(router_ids), action, json.dumps(payload))
    return {int(r["router_id"]): int(r["id"]) for r in rows}


async def enqueue_command(
    connection: Connection, *, customer_id: int, action: str, payload: dict[str, Any] | None = None
) -> int | None:
    """``enqueue_commands`` for one customer; None when it has no router."""
    return (await enqueue_commands(connection, [customer_id], action, payload)).get(customer_id)


async def kick(queue: Queue, tenant: TenantRef, command_id: int) -> None:
    """Run the tenant's due commands now, through the queue (the minute job is the backstop)."""
    await run_soon(queue, "netsync.router_commands", tenant, f"command-{command_id}")


@dataclass(frozen=True)
class Outcome:
    detail: dict[str, Any]
    last_address: str | None = None


async def _customer_addresses(router: RouterSession, customer: Any) -> tuple[set[str], int]:
    addresses = {str(customer["ip_address"])} if customer["ip_address"] else set()
    sessions = await router.active_sessions(customer["pppoe_username"]) if customer["pppoe_username"] else []
    addresses |= {s.address for s in sessions if s.address}
    return addresses, len(sessions)


_Password = Callable[[], str | None]


def _pppoe_password(secret_key: str, tenant: TenantRef, customer: Any) -> str | None:
    """The customer's PPPoE password opened from its sealed column (None when ISPB does not hold one): opened
    only by the actions that set the router's PPP secret."""
    if not customer["pppoe_password_sealed"]:
        return None
    binding = Binding(tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, customer["customer_id"])
    return reveal(secret_key, customer["pppoe_password_sealed"], binding)


async def _ensure_secret(router: RouterSession, customer: Any, profile: str, pppoe_password: _Password) -> str:
    """Point the customer's PPP secret at ``profile``; returns what happened (created/updated/unchanged/none)."""
    name = customer["pppoe_username"]
    if not name:
        return "no PPPoE username"
    password = pppoe_password()
    if password is None:  # the operator created the secret on the router: keep its password, change only the profile
        existing = await router.ppp_secrets(name)
        if not existing:
            return "no PPP secret on the router and no PPPoE password in ISPB"
        password = existing[0].password
    change = await router.ensure_ppp_secret(
        name, password=password, profile=profile, comment=f"ispb:{customer['code']}"
    )
    return str(change.value)


async def _suspend(router: RouterSession, customer: Any, pppoe_password: _Password) -> Outcome:
    await router.ensure_ppp_profile(SUSPENDED_PROFILE, rate_limit=SUSPENDED_RATE, address_list=SUSPENDED_LIST)
    secret = await _ensure_secret(router, customer, SUSPENDED_PROFILE, pppoe_password)
    addresses, _ = await _customer_addresses(router, customer)
    for address in sorted(addresses):
        await router.ensure_listed(SUSPENDED_LIST, address, comment=f"ispb:{customer['code']}")
    disconnected = await router.disconnect(customer["pppoe_username"]) if customer["pppoe_username"] else 0
    detail = {"secret": secret, "listed": sorted(addresses), "disconnected": disconnected}
    return Outcome(detail, sorted(addresses)[0] if addresses else None)


async def _activate(router: RouterSession, customer: Any, pppoe_password: _Password) -> Outcome:
    profile_change = "no package"
    if customer["package_id"] is not None:  # the package's profile, or its FUP one while over the allowance
        profile = (fair_usage_profile if customer.get("fair_usage") else package_profile)(customer["package_id"])
        await router.ensure_ppp_profile(
            profile, rate_limit=rate_limit(customer["download_kbps"], customer["upload_kbps"])
        )
        profile_change = await _ensure_secret(router, customer, profile, pppoe_password)
    # the customer's entries, asked by comment and by address: the suspended list holds every suspended customer
    marker = f"ispb:{customer['code']}"
    known = sorted({str(a) for a in (customer["ip_address"], customer["last_address"]) if a})
    entries = await router.address_list(SUSPENDED_LIST, comment=marker)
    for address in known:
        entries += await router.listed(SUSPENDED_LIST, address)
    unlisted = []
    for address in sorted({entry.address for entry in entries}):
        await router.ensure_unlisted(SUSPENDED_LIST, address)
        unlisted.append(address)
    if customer["pppoe_username"] and not customer.get("fair_usage"):  # full speed: no fair-usage queue left
        await router.remove_simple_queue(fair_usage_queue(customer["pppoe_username"]))
    disconnected = await router.disconnect(customer["pppoe_username"]) if customer["pppoe_username"] else 0
    return Outcome({"secret": profile_change, "unlisted": unlisted, "disconnected": disconnected})


async def _apply_package(router: RouterSession, customer: Any, pppoe_password: _Password) -> Outcome:
    if customer["status"] != "active":  # a suspended customer keeps the suspended profile until reactivated
        return Outcome({"skipped": f"customer is {customer['status']}"})
    outcome = await _activate(router, customer, pppoe_password)
    return Outcome({"package_profile": package_profile(customer["package_id"]), **outcome.detail})


def fair_usage_profile(package_id: int) -> str:
    """The PPP profile of a package's FUP speed on API-managed routers."""
    return f"ispb-fup-{package_id}"


def fair_usage_queue(pppoe_username: str) -> str:
    """The simple queue holding a live session of ``pppoe_username`` at the FUP speed (API-managed routers)."""
    return f"ispb-fup-{pppoe_username}"


async def _apply_rate(router: RouterSession, customer: Any, pppoe_password: _Password) -> Outcome:
    """Fair usage on or off for an active customer on an API-managed router, without ending the session.

    The PPP secret points at the package's FUP profile (or back at the package's): that rate holds from the
    next connection, because RouterOS gives a PPP session its profile's rate when it starts. The live session
    changes speed at once through a simple queue on its interface placed first in the queue list (RouterOS gives
    a packet to the first matching queue, so it wins over the session's dynamic ``<pppoe-…>`` queue); full
    speed removes that queue. On a RADIUS router ``_radius_command`` changes the live session with a CoA."""
    if customer["status"] != "active" or customer["package_id"] is None:
        return Outcome({"skipped": f"customer is {customer['status']}" if customer["package_id"] else "no package"})
    limit = rate_limit(customer["download_kbps"], customer["upload_kbps"])
    profile = (fair_usage_profile if customer["fair_usage"] else package_profile)(customer["package_id"])
    await router.ensure_ppp_profile(profile, rate_limit=limit)
    secret = await _ensure_secret(router, customer, profile, pppoe_password)
    detail = {"profile": profile, "secret": secret, "fair_usage": bool(customer["fair_usage"])}
    if name := customer["pppoe_username"]:
        detail["live_queue"] = await _live_rate(router, name, limit if customer["fair_usage"] else None)
    return Outcome(detail)


async def _live_rate(router: RouterSession, pppoe_username: str, limit: str | None) -> str:
    """Hold the live session of ``pppoe_username`` at ``limit`` with a first-placed queue, or drop that queue."""
    queue = fair_usage_queue(pppoe_username)
    if limit is None:
        return str((await router.remove_simple_queue(queue)).value)
    # The target is the session's own interface (``<pppoe-name>``, what RouterOS names a PPP server session),
    # not its address: the queue then holds this customer only. An address outlives the session in the queue,
    # and once the pool hands it to another customer, that customer would be slowed instead (the reconnected
    # session gets the FUP profile's rate from its secret anyway).
    interfaces = sorted(
        {
            f"<{session.service or 'pppoe'}-{session.name or pppoe_username}>"
            for session in await router.active_sessions(pppoe_username)
        }
    )
    if not interfaces:
        return "not online"
    change = await router.ensure_simple_queue(queue, target=",".join(interfaces), max_limit=limit, first=True)
    return str(change.value)


async def _disconnect(router: RouterSession, customer: Any, pppoe_password: _Password) -> Outcome:
    return Outcome({"disconnected": await router.disconnect(customer["pppoe_username"] or "")})


async def _apply_profile(router: RouterSession, command: Any, pppoe_password: _Password) -> Outcome:
    """A package's PPP profile with its current speeds (a package edit); sessions pick it up when they connect."""
    profile = package_profile(command["package_id"])
    change = await router.ensure_ppp_profile(
        profile, rate_limit=rate_limit(command["download_kbps"], command["upload_kbps"])
    )
    return Outcome({"profile": profile, "change": str(change.value)})


ACTIONS = {
    "suspend": _suspend,
    "activate": _activate,
    "apply_package": _apply_package,
    "disconnect": _disconnect,
    "apply_profile": _apply_profile,
    "apply_rate": _apply_rate,
}

_LOAD = """
SELECT k.id, k.action, k.attempts, r.id AS router_id, r.host, r.api_port, r.use_tls, r.username, r.password_sealed,
       r.mode, r.radius_secret_sealed, host(r.nas_address) AS nas_address, r.coa_port,
       c.id AS customer_id, c.code, c.status, c.pppoe_username, c.pppoe_password_sealed, c.ip_address,
       c.last_address, p.id AS package_id,
       -- over the data allowance (fair usage): the package's FUP speeds until the cycle ends
       c.fup_until IS NOT NULL AND p.fup_download_kbps IS NOT NULL AND k.customer_id IS NOT NULL AS fair_usage,
       CASE WHEN c.fup_until IS NOT NULL AND p.fup_download_kbps IS NOT NULL THEN p.fup_download_kbps
            ELSE p.download_kbps END AS download_kbps,
       CASE WHEN c.fup_until IS NOT NULL AND p.fup_upload_kbps IS NOT NULL THEN p.fup_upload_kbps
            ELSE p.upload_kbps END AS upload_kbps
FROM router_command k
JOIN router r ON r.id = k.router_id
LEFT JOIN customer c ON c.id = k.customer_id
-- the customer's package, or for a router-level command the package it names
LEFT JOIN package p
    ON p.id = CASE WHEN k.customer_id IS NULL THEN (k.payload ->> 'package_id')::integer ELSE c.package_id END
WHERE k.id = ANY($1::bigint[]) AND k.status = 'pending'
ORDER BY k.id
"""


async def _radius_command(db: Database, tenant: TenantRef, command: Any, secret_key: str) -> Outcome:
    """RADIUS-managed router: the rows already say what is allowed; tell the live sessions.

    Suspension and reactivation end the customer's open sessions (Disconnect-Request), so the next login gets
    the new reply; a package change is applied to the live session with a CoA (falling back to a disconnect
    when the NAS refuses it). No open session: nothing to tell. An unreachable NAS raises and is retried.
    """
    name = command["pppoe_username"]
    if not name:
        return Outcome({"skipped": "no PPPoE username"})
    async with db.tenant(tenant) as scope:
        sessions = await scope.connection.fetch(
            "SELECT acctsessionid, host(framedipaddress) AS address FROM radacct WHERE username = $1"
            " AND acctstoptime IS NULL AND nasipaddress = $2::inet",
            name,
            command["nas_address"],
        )
    binding = Binding(tenant.id, Purpose.ROUTER_RADIUS_SECRET, command["router_id"])
    secret = reveal(secret_key, command["radius_secret_sealed"], binding)
    nas, port = command["nas_address"], command["coa_port"]
    detail: dict[str, Any] = {"sessions": len(sessions), "acked": 0, "nak": 0}
    for session in sessions:
        changes_rate = command["action"] in ("apply_package", "apply_rate")
        if changes_rate and command["status"] == "active" and command["download_kbps"]:
            limit = rate_limit(command["download_kbps"], command["upload_kbps"])
            changed = await coa(
                nas,
                port,
                secret,
                user_name=name,
                acct_session_id=session["acctsessionid"],
                attributes={"Mikrotik-Rate-Limit": limit},
            )
            if changed.acked:
                detail["acked"] += 1
                continue
        ended = await disconnect(nas, port, secret, user_name=name, acct_session_id=session["acctsessionid"])
        detail["acked" if ended.acked else "nak"] += 1
    addresses = [s["address"] for s in sessions if s["address"]]
    return Outcome(detail, addresses[0] if addresses and command["action"] == "suspend" else None)


_FAILURES = (RouterError, RadiusError, SealError, OSError)
"""What makes a command wait and retry: the router (or NAS) unreachable, refusing or trapping, or a sealed
secret that cannot be opened."""


@dataclass
class _RouterRun:
    """What happened to one router's commands in one pass: outcomes of the done ones, the error of the one that
    failed. Commands after a failure that closed the connection are left pending, untouched."""

    router_id: int
    done: dict[int, Outcome] = field(default_factory=dict)
    failed: dict[int, tuple[int, str]] = field(default_factory=dict)
    """command id -> (attempts so far, error)"""
    customers: dict[int, int | None] = field(default_factory=dict)
    """command id -> customer id"""


async def _run_on_router(db: Database, tenant: TenantRef, secret_key: str, commands: Sequence[Any]) -> _RouterRun:
    """One router's due commands, in id order, over ONE API session (sign in once, not once per command).

    A trap or a secret that cannot be opened fails that command only; a connection that fails stops the
    router's pass (its later commands stay pending for the next one), as the order within a router matters."""
    run = _RouterRun(commands[0]["router_id"])
    for command in commands:
        run.customers[command["id"]] = command["customer_id"]
    if commands[0]["mode"] == "radius":
        for command in commands:
            try:
                run.done[command["id"]] = await _radius_command(db, tenant, command, secret_key)
            except _FAILURES as problem:
                run.failed[command["id"]] = (command["attempts"], f"{type(problem).__name__}: {problem}")
        return run
    current = commands[0]
    try:
        address = address_of(current, secret_key, tenant.id, run.router_id)
        async with RouterSession.open(address) as router:
            for current in commands:
                try:
                    action = ACTIONS[current["action"]]
                    password = partial(_pppoe_password, secret_key, tenant, current)
                    run.done[current["id"]] = await action(router, current, password)
                except (RouterTrap, SealError) as problem:  # this command's trouble; the session goes on
                    run.failed[current["id"]] = (current["attempts"], f"{type(problem).__name__}: {problem}")
    except _FAILURES as problem:
        run.failed[current["id"]] = (current["attempts"], f"{type(problem).__name__}: {problem}")
    return run


# A router's pass recorded in one statement: the done commands with their results, the failed ones with their
# error and backoff, the router's status (up when the last of its commands went through, else down with the
# error) and the addresses the router reported for the suspended customers.
_RECORD = """
WITH done AS (
    UPDATE router_command k SET status = 'done', attempts = k.attempts + 1, done_at = now(), last_error = '',
        payload = k.payload || jsonb_build_object('result', d.result)
    FROM unnest($1::bigint[], $2::jsonb[]) AS d(id, result)
    WHERE k.id = d.id AND k.id = ANY($1::bigint[])
), failed AS (
    UPDATE router_command k SET attempts = k.attempts + 1, last_error = f.error, next_attempt_at = now() + f.backoff
    FROM unnest($3::bigint[], $4::text[], $5::interval[]) AS f(id, error, backoff)
    WHERE k.id = f.id AND k.id = ANY($3::bigint[])
), seen AS (
    UPDATE customer c SET last_address = a.address
    FROM unnest($6::int[], $7::inet[]) AS a(customer_id, address)
    WHERE c.id = a.customer_id AND c.id = ANY($6::int[])
)
UPDATE router SET status = CASE WHEN $8::text = '' THEN 'up' ELSE 'down' END, last_error = $8,
    last_checked_at = now()
WHERE id = $9
"""


async def _record(db: Database, tenant: TenantRef, run: _RouterRun) -> None:
    done = list(run.done.items())
    failed = list(run.failed.items())
    seen = [
        (customer_id, outcome.last_address)
        for command_id, outcome in done
        if outcome.last_address and (customer_id := run.customers.get(command_id)) is not None
    ]
    last_error = failed[-1][1][1] if failed and max(run.failed) > max(run.done, default=0) else ""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            _RECORD,
            [command_id for command_id, _ in done],
            [json.dumps(outcome.detail) for _, outcome in done],
            [command_id for command_id, _ in failed],
            [error for _, (_, error) in failed],
            [backoff(attempts + 1) for _, (attempts, _) in failed],
            [customer_id for customer_id, _ in seen],
            [address for _, address in seen],
            last_error,
            run.router_id,
        )


ROUTERS_AT_ONCE = 4
"""Routers talked to at the same time: each holds a pool connection only to load and to record its pass."""


async def _pass(db: Database, tenant: TenantRef, secret_key: str, command_ids: list[int]) -> Counts:
    """Run these commands: loaded in one query, grouped by router, up to ``ROUTERS_AT_ONCE`` routers at once."""
    async with db.tenant(tenant) as scope:
        commands = await scope.connection.fetch(_LOAD, command_ids)
    by_router: dict[int, list[Any]] = {}
    for command in commands:
        by_router.setdefault(command["router_id"], []).append(command)
    gate = asyncio.Semaphore(ROUTERS_AT_ONCE)

    async def one_router(router_commands: list[Any]) -> _RouterRun:
        async with gate:
            run = await _run_on_router(db, tenant, secret_key, router_commands)
            await _record(db, tenant, run)
            return run

    async with asyncio.TaskGroup() as group:  # an unexpected error cancels the other routers' passes
        tasks = [group.create_task(one_router(c)) for c in by_router.values()]
    runs = [task.result() for task in tasks]
    return {"done": sum(len(r.done) for r in runs), "retry": sum(len(r.failed) for r in runs)}


async def run_command(db: Database, tenant: TenantRef, secret_key: str, command_id: int) -> str:
    """Execute one pending command and record the result; returns ``done``, ``retry`` or ``gone``."""
    counts = await _pass(db, tenant, secret_key, [command_id])
    return "done" if counts["done"] else "retry" if counts["retry"] else "gone"


async def run_due(db: Database, tenant: TenantRef, secret_key: str) -> Counts:
    """Every due command of ``tenant`` (``netsync.router_commands``): a batch at a time, oldest first, each
    router's commands in order over one session, several routers at once.

    SQL, not Piccolo: a session-level advisory lock on a connection held for the whole run makes a second
    worker return at once instead of racing (commands must reach a router in order).
    """
    counts = {"done": 0, "retry": 0, "busy": 0}
    async with db.pool.acquire() as lock:
        if not await lock.fetchval(
            "SELECT pg_try_advisory_lock(hashtext('netsync.router_commands'), hashtext($1))", tenant.schema
        ):
            counts["busy"] = 1
            return counts
        try:
            seen: set[int] = set()
            while True:
                async with db.tenant(tenant) as scope:
                    due = [
                        r["id"]
                        for r in await scope.connection.fetch(
                            "SELECT id FROM router_command WHERE status = 'pending' AND next_attempt_at <= now()"
                            " ORDER BY id LIMIT $1",
                            BATCH,
                        )
                        if r["id"] not in seen
                    ]
                if not due:
                    return counts
                seen.update(due)
                for name, value in (await _pass(db, tenant, secret_key, due)).items():
                    counts[name] += value
        finally:
            await lock.execute(
                "SELECT pg_advisory_unlock(hashtext('netsync.router_commands'), hashtext($1))", tenant.schema
            )
