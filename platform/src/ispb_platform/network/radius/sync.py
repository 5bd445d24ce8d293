"""Keeping a customer's FreeRADIUS rows in step with the customer (RADIUS-managed routers).

Called in the business transaction of every change that matters to RADIUS (customer saved, package changed,
suspended, reactivated), so the rows FreeRADIUS reads are exactly the committed state: a suspended customer
is in the ``ispb-suspended`` group from the moment the suspension commits. Customers on API-managed routers,
or without a PPPoE username and password, have no rows. The live session is then told by the router command
(Disconnect-Request or CoA) after commit.
"""

from ispb_netsync.radius import customer_rows
from ispb_netsync.routeros import rate_limit
from ispb_platform.secrets_box import reveal
from ispb_tenants import Connection

_CUSTOMER = """
SELECT c.id, c.status, c.pppoe_username, c.pppoe_password_sealed, host(c.ip_address) AS ip_address, r.mode,
       p.download_kbps, p.upload_kbps
FROM customer c LEFT JOIN router r ON r.id = c.router_id LEFT JOIN package p ON p.id = c.package_id
WHERE c.id = $1
"""


async def _delete(connection: Connection, username: str) -> None:
    for table in ("radcheck", "radreply", "radusergroup"):
        await connection.execute(f"DELETE FROM {table} WHERE username = $1", username)  # noqa: S608 (constants)


async def sync_customer(
    connection: Connection, secret_key: str, customer_id: int, *, old_username: str | None = None
) -> bool:
    """Rewrite the customer's radcheck/radreply/radusergroup rows; returns whether the customer has rows now.

    ``old_username`` removes the rows of a username the customer no longer has.
    """
    customer = await connection.fetchrow(_CUSTOMER, customer_id)
    if customer is None:
        return False
    username = customer["pppoe_username"]
    if old_username and old_username != username:
        await _delete(connection, old_username)
    if not username:
        return False
    await _delete(connection, username)
    if customer["mode"] != "radius" or not customer["pppoe_password_sealed"] or customer["status"] == "disabled":
        return False
    rows = customer_rows(
        username,
        reveal(secret_key, customer["pppoe_password_sealed"]),
        rate_limit=rate_limit(customer["download_kbps"], customer["upload_kbps"])
        if customer["download_kbps"]
        else None,
        suspended=customer["status"] == "suspended",
        framed_ip=customer["ip_address"],
    )
    for row in rows.radcheck:
        await connection.execute(
            "INSERT INTO radcheck (username, attribute, op, value) VALUES ($1, $2, $3, $4)",
            row.name,
            row.attribute,
            row.op,
            row.value,
        )
    for reply in rows.radreply:
        await connection.execute(
            "INSERT INTO radreply (username, attribute, op, value) VALUES ($1, $2, $3, $4)",
            reply.name,
            reply.attribute,
            reply.op,
            reply.value,
        )
    for group in rows.radusergroup:
        await connection.execute(
            "INSERT INTO radusergroup (username, groupname, priority) VALUES ($1, $2, $3)",
            group.username,
            group.groupname,
            group.priority,
        )
    return True
