"""Routers use cases: saving a router with sealed credentials, and testing its connection from the page.

Passwords and RADIUS secrets are sealed with ``ISPB_SECRET_KEY`` (``secrets_box``) before they reach the
database and opened only where a connection is made; pages never show them again.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ispb_platform.network.routers import queries
from ispb_platform.network.routers.forms import RouterDraft
from ispb_platform.network.routers.queries import CommandRow, RouterRow
from ispb_platform.network.routers.status import RouterCheck, check_router
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Database, TenantRef, TenantScope

API_PASSWORD = Purpose.ROUTER_API_PASSWORD


async def save_router(db: TenantScope, secret_key: str, draft: RouterDraft, router_id: int | None) -> int:
    """Insert or update in the open tenant scope; returns the router's id.

    Raises `RouterNameTaken` for a duplicate name (the transaction stays usable). An empty password or RADIUS
    secret on edit keeps the stored one. A new router takes its id from the sequence first: its secrets are
    sealed for that id (``secrets_box.Binding``) and the row is written once, complete.
    """
    values: dict[str, Any] = {
        "name": draft.name,
        "host": draft.host,
        "api_port": draft.api_port,
        "use_tls": draft.use_tls,
        "username": draft.username,
        "mode": draft.mode,
        "nas_address": draft.nas_address,
        "coa_port": draft.coa_port,
        "netflow_address": draft.netflow_address,
    }
    new = router_id is None
    row_id = await queries.next_router_id(db) if router_id is None else router_id
    if draft.password:
        values["password_sealed"] = seal(secret_key, draft.password, Binding(db.tenant.id, API_PASSWORD, row_id))
    if draft.radius_secret:
        secret = Binding(db.tenant.id, Purpose.ROUTER_RADIUS_SECRET, row_id)
        values["radius_secret_sealed"] = seal(secret_key, draft.radius_secret, secret)
    if new:
        return await queries.insert_router(db, values | {"id": row_id})
    await queries.update_router(db, row_id, values | {"updated_at": datetime.now(UTC)})
    return row_id


async def name_clash(data: dict[str, str], errors: dict[str, str], router_id: int | None) -> dict[str, str]:
    """The name error when another router has the typed name, to answer with the form's other errors."""
    name = (data.get("name") or "").strip()
    if "name" in errors or not name or not await queries.name_taken(name, router_id):
        return {}
    return {"name": f"A router named {name!r} already exists."}


@dataclass(frozen=True)
class TestedRouter:
    router: RouterRow
    commands: list[CommandRow]
    check: RouterCheck


async def test_connection(db: Database, tenant: TenantRef, secret_key: str, router_id: int) -> TestedRouter | None:
    """Ask the router now and return its page's data with the answer; None for an unknown router.

    Opens its own short tenant scopes rather than running in the handler's: the router may take seconds to
    answer (or not at all), and no transaction is held open meanwhile.
    """
    async with db.tenant(tenant):
        if await queries.get_router(router_id) is None:
            return None
    check = await check_router(db, tenant, secret_key, router_id, answer_within=8)
    async with db.tenant(tenant):
        router = await queries.get_router(router_id)
        commands = await queries.recent_commands(router_id=router_id)
    if router is None:  # deleted meanwhile
        return None
    return TestedRouter(router, commands, check)
