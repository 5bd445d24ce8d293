"""A package's speed edit reaches the network in the edit's own transaction, set-based whatever the number of
customers on it (issue 14: "PPPoE profile changes made in ISPBills are automatically pushed").

Three things change when a package's download or upload speed does:

1. the FreeRADIUS reply rows of its customers on RADIUS-managed routers (each carries its own
   ``Mikrotik-Rate-Limit``): ``sync_customers`` in chunks, which writes only the rows that differ;
2. the ``ispb-package-N`` PPP profile on every API-managed router that has customers on it: one router-level
   ``apply_profile`` command per router through the command queue (a newer edit supersedes a pending one);
3. the live sessions on RADIUS routers: an ``apply_package`` command per customer online, which changes the
   session's rate with a CoA (a disconnect when the NAS refuses it).

Sessions on API-managed routers take the new profile when they next connect: RouterOS keeps a session's
dynamic queue until then, and disconnecting every customer of a package at once on a speed edit would be an
outage of its own. Every command carries ``{"package_id": N, "edit": <the edit's time>}``, so the package page
shows the last edit's rollout (``rollout_of``) from the same rows the router worker updates.

Why SQL: the customer sets are one indexed read each; the rollout counts are one grouped read over the
``router_command_package_idx`` index.
"""

from dataclasses import dataclass, field
from datetime import datetime

from ispb_platform.network.radius.sync import sync_customers
from ispb_platform.network.routers.commands import enqueue_commands, enqueue_router_commands
from ispb_tenants import Connection

SYNC_CHUNK = 5_000
"""Customers whose RADIUS rows are brought in step per statement pair (their state arrays stay modest)."""

_ON_PACKAGE = """
SELECT c.id, r.id AS router_id, r.mode,
       c.status = 'active' AND c.pppoe_username IS NOT NULL AND r.mode = 'radius' AND EXISTS (
           SELECT 1 FROM radacct a WHERE a.username = c.pppoe_username AND a.acctstoptime IS NULL
             AND a.nasipaddress = r.nas_address) AS online
FROM customer c JOIN router r ON r.id = c.router_id
WHERE c.package_id = $1 AND c.status <> 'disabled'
ORDER BY c.id
"""


@dataclass(frozen=True)
class Started:
    """What an edit set going: customers whose RADIUS rows were rewritten, router and session commands."""

    radius_customers: int
    router_commands: int
    session_commands: int


async def roll_out_package(connection: Connection, package_id: int, edited_at: datetime, *, secret_key: str) -> Started:
    """Bring the network in step with package ``package_id`` after its speeds changed (the edit saved at
    ``edited_at``, the package's ``updated_at``), in the caller's transaction (see the module doc). Returns what
    was started; the commands run after commit."""
    rows = await connection.fetch(_ON_PACKAGE, package_id)
    radius = [r["id"] for r in rows if r["mode"] == "radius"]
    for start in range(0, len(radius), SYNC_CHUNK):
        await sync_customers(connection, secret_key, radius[start : start + SYNC_CHUNK])
    payload = {"package_id": package_id, "edit": edited_at.isoformat()}
    api_routers = sorted({r["router_id"] for r in rows if r["mode"] == "api"})
    profiles = await enqueue_router_commands(connection, api_routers, "apply_profile", payload)
    sessions = await enqueue_commands(connection, [r["id"] for r in rows if r["online"]], "apply_package", payload)
    return Started(len(radius), len(profiles), len(sessions))


@dataclass
class Rollout:
    """How far the last edit of a package got: its commands by kind and state, and the latest error."""

    since: datetime
    routers: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)
    last_error: str = ""

    @property
    def empty(self) -> bool:
        return not self.routers and not self.sessions


_ROLLOUT = """
SELECT action,
       CASE WHEN status IN ('done', 'superseded') THEN status
            WHEN last_error <> '' THEN 'failing' ELSE 'pending' END AS state,
       count(*) AS n, max(last_error) FILTER (WHERE status = 'pending') AS error
FROM router_command
WHERE payload ? 'package_id' AND (payload ->> 'package_id')::integer = $1 AND payload ->> 'edit' = $2
GROUP BY 1, 2
"""


async def rollout_of(connection: Connection, package_id: int, edited_at: datetime) -> Rollout:
    """The commands of the rollout of package ``package_id``'s edit saved at ``edited_at``, counted."""
    rollout = Rollout(edited_at)
    for r in await connection.fetch(_ROLLOUT, package_id, edited_at.isoformat()):
        kind = rollout.routers if r["action"] == "apply_profile" else rollout.sessions
        kind[r["state"]] = int(r["n"])
        rollout.last_error = rollout.last_error or (r["error"] or "")
    return rollout
