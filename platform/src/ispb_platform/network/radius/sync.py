"""Keeping customers' FreeRADIUS rows in step with the customers (RADIUS-managed routers).

Called in the business transaction of every change that matters to RADIUS (customer saved, package changed,
suspended, reactivated), so the rows FreeRADIUS reads are exactly the committed state: a suspended customer
is in the ``ispb-suspended`` group from the moment the suspension commits. Customers on API-managed routers,
or without a PPPoE username and password, have no rows. The live session is then told by the router command
(Disconnect-Request or CoA) after commit.

Set-based: ``sync_customers`` brings the rows of any number of customers in step in two statements (read the
customers, then one statement that deletes and inserts only the rows that differ), so a suspension run over
thousands of customers does not pay a round trip per row, nor rewrite the unchanged passwords; the rows
themselves still come from ``ispb_netsync.radius.customer_rows``, one customer at a time, in Python.
"""

from collections.abc import Mapping, Sequence

from ispb_netsync.radius import CustomerRows, customer_rows
from ispb_netsync.routeros import rate_limit
from ispb_platform.network.radius import queries
from ispb_platform.secrets_box import Binding, Purpose, reveal
from ispb_tenants import Connection, current_tenant


def _pppoe_binding(customer_id: int) -> Binding:
    tenant = current_tenant()
    if tenant is None:
        raise RuntimeError("sync_customers runs inside a tenant scope")
    return Binding(tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, customer_id)


async def sync_customers(
    connection: Connection,
    secret_key: str,
    customer_ids: Sequence[int],
    *,
    old_usernames: Mapping[int, str] | None = None,
) -> set[int]:
    """Rewrite the radcheck/radreply/radusergroup rows of ``customer_ids``; returns the ids that have rows now.

    ``old_usernames`` ({customer id: username it had}) removes the rows of a username a customer no longer
    has. Runs in a tenant scope (its ``connection``), whose tenant the sealed passwords are bound to.
    """
    if not customer_ids:
        return set()
    old = old_usernames or {}
    states = await queries.customers_radius_state(connection, customer_ids)
    stale = [old[c["id"]] for c in states if old.get(c["id"]) and old[c["id"]] != c["pppoe_username"]]
    named = [c for c in states if c["pppoe_username"]]
    synced: dict[int, CustomerRows] = {}
    for customer in named:
        if customer["mode"] != "radius" or not customer["pppoe_password_sealed"] or customer["status"] == "disabled":
            continue
        synced[customer["id"]] = customer_rows(
            customer["pppoe_username"],
            reveal(secret_key, customer["pppoe_password_sealed"], _pppoe_binding(customer["id"])),
            rate_limit=rate_limit(customer["download_kbps"], customer["upload_kbps"])
            if customer["download_kbps"]
            else None,
            suspended=customer["status"] == "suspended",
            framed_ip=customer["ip_address"],
        )
    await queries.replace_user_rows(connection, stale + [c["pppoe_username"] for c in named], list(synced.values()))
    return set(synced)


async def sync_customer(
    connection: Connection, secret_key: str, customer_id: int, *, old_username: str | None = None
) -> bool:
    """``sync_customers`` for one customer; returns whether the customer has rows now."""
    old = {customer_id: old_username} if old_username else None
    return customer_id in await sync_customers(connection, secret_key, [customer_id], old_usernames=old)
