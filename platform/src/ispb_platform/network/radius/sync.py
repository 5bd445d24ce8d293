"""Keeping a customer's FreeRADIUS rows in step with the customer (RADIUS-managed routers).

Called in the business transaction of every change that matters to RADIUS (customer saved, package changed,
suspended, reactivated), so the rows FreeRADIUS reads are exactly the committed state: a suspended customer
is in the ``ispb-suspended`` group from the moment the suspension commits. Customers on API-managed routers,
or without a PPPoE username and password, have no rows. The live session is then told by the router command
(Disconnect-Request or CoA) after commit.
"""

from ispb_netsync.radius import customer_rows
from ispb_netsync.routeros import rate_limit
from ispb_platform.network.radius import queries
from ispb_platform.secrets_box import Binding, Purpose, reveal
from ispb_tenants import Connection, current_tenant


def _pppoe_binding(customer_id: int) -> Binding:
    tenant = current_tenant()
    if tenant is None:
        raise RuntimeError("sync_customer runs inside a tenant scope")
    return Binding(tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, customer_id)


async def sync_customer(
    connection: Connection, secret_key: str, customer_id: int, *, old_username: str | None = None
) -> bool:
    """Rewrite the customer's radcheck/radreply/radusergroup rows; returns whether the customer has rows now.

    ``old_username`` removes the rows of a username the customer no longer has. Runs in a tenant scope (its
    ``connection``), whose tenant the sealed password is bound to.
    """
    customer = await queries.customer_radius_state(connection, customer_id)
    if customer is None:
        return False
    username = customer["pppoe_username"]
    if old_username and old_username != username:
        await queries.delete_user_rows(connection, old_username)
    if not username:
        return False
    await queries.delete_user_rows(connection, username)
    if customer["mode"] != "radius" or not customer["pppoe_password_sealed"] or customer["status"] == "disabled":
        return False
    rows = customer_rows(
        username,
        reveal(secret_key, customer["pppoe_password_sealed"], _pppoe_binding(customer_id)),
        rate_limit=rate_limit(customer["download_kbps"], customer["upload_kbps"])
        if customer["download_kbps"]
        else None,
        suspended=customer["status"] == "suspended",
        framed_ip=customer["ip_address"],
    )
    await queries.insert_user_rows(connection, rows)
    return True
