"""A customer's connection: which router serves them, a static address, the PPPoE password.

Kept apart from the customer's identity fields (``forms.py``, shared with the CSV import) because these are
service settings: changing them, or the package, queues an ``apply_package`` command so the router gets the
PPP secret and profile without anyone touching it. The PPPoE password is sealed like router passwords.
"""

import ipaddress
from dataclasses import dataclass
from typing import Any

from ispb_platform.network.radius.sync import sync_customer
from ispb_platform.network.routers.commands import enqueue_command
from ispb_platform.secrets_box import seal
from ispb_tenants import Connection

CONNECTION_FIELDS = ("router", "ip_address")


@dataclass(frozen=True)
class ConnectionDraft:
    router_id: int | None
    ip_address: str | None
    pppoe_password: str  # empty: keep the stored one


async def router_choices(connection: Connection) -> list[tuple[str, str]]:
    rows = await connection.fetch("SELECT id, name FROM router ORDER BY name")
    return [(str(r["id"]), r["name"]) for r in rows]


def validate_connection(
    data: dict[str, str], routers: list[tuple[str, str]]
) -> tuple[ConnectionDraft | None, dict[str, str]]:
    errors: dict[str, str] = {}
    router = data.get("router", "").strip()
    if router and router not in {value for value, _ in routers}:
        errors["router"] = "Choose one of the operator's routers."
    address = data.get("ip_address", "").strip() or None
    if address is not None:
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            errors["ip_address"] = "Enter an IP address such as 10.20.0.15, or leave it empty."
    password = data.get("pppoe_password", "")
    if password and not 4 <= len(password) <= 64:
        errors["pppoe_password"] = "Use 4 to 64 characters, or leave it empty."  # noqa: S105 (a message)
    if errors:
        return None, errors
    return ConnectionDraft(int(router) if router else None, address, password), {}


async def save_connection(
    connection: Connection, secret_key: str, customer_id: int, draft: ConnectionDraft, *, before: dict[str, Any] | None
) -> int | None:
    """Store the settings; queue ``apply_package`` when the router must learn something. Returns the command."""
    await connection.execute(
        "UPDATE customer SET router_id = $2, ip_address = $3::inet,"
        " pppoe_password_sealed = COALESCE($4, pppoe_password_sealed) WHERE id = $1",
        customer_id,
        draft.router_id,
        draft.ip_address,
        seal(secret_key, draft.pppoe_password) if draft.pppoe_password else None,
    )
    await sync_customer(
        connection, secret_key, customer_id, old_username=before.get("pppoe_username") if before else None
    )
    after = await connection.fetchrow(
        "SELECT router_id, ip_address, package_id, pppoe_username, status FROM customer WHERE id = $1", customer_id
    )
    if after is None or after["router_id"] is None or after["status"] != "active":
        return None
    keys = ("router_id", "ip_address", "package_id", "pppoe_username")
    changed = before is None or any(str(before.get(k)) != str(after[k]) for k in keys) or bool(draft.pppoe_password)
    if not changed:
        return None
    return await enqueue_command(connection, customer_id=customer_id, action="apply_package")
