"""OLTs use cases: saving an OLT with sealed credentials, testing its connection, mapping an ONU by hand.

Credentials are sealed with ``ISPB_SECRET_KEY`` (``secrets_box``, bound to the OLT's id) before they reach the
database, and opened only to connect; pages never show them again.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ispb_netsync.olt import OLTError, OltSession
from ispb_platform.network.olts import queries, writes
from ispb_platform.network.olts.forms import OltDraft
from ispb_platform.secrets_box import Binding, Purpose, SealError, seal
from ispb_tenants import Database, TenantRef, TenantScope

TEST_TIMEOUT = 3.0


async def save_olt(db: TenantScope, secret_key: str, draft: OltDraft, olt_id: int | None) -> int:
    """Insert or update in the open scope; returns the OLT's id. Empty secrets on edit keep the stored ones;
    switching to SNMPv2c forgets the SNMPv3 keys and the other way round."""
    values: dict[str, Any] = {
        "name": draft.name,
        "host": draft.host,
        "snmp_port": draft.snmp_port,
        "snmp_version": draft.snmp_version,
        "v3_username": draft.v3_username if draft.snmp_version == "v3" else "",
        "v3_auth_protocol": draft.v3_auth_protocol,
        "v3_priv_protocol": draft.v3_priv_protocol,
        "v3_context": draft.v3_context,
        "vendor": draft.vendor,
        "site": draft.site,
    }
    row_id = await queries.next_olt_id(db) if olt_id is None else olt_id

    def sealed(text: str, purpose: Purpose) -> str:
        return seal(secret_key, text, Binding(db.tenant.id, purpose, row_id))

    if draft.snmp_version == "v2c":
        values |= {"v3_auth_key_sealed": None, "v3_priv_key_sealed": None}
        if draft.community:
            values["community_sealed"] = sealed(draft.community, Purpose.OLT_COMMUNITY)
    else:
        values["community_sealed"] = None
        if draft.v3_auth_key:
            values["v3_auth_key_sealed"] = sealed(draft.v3_auth_key, Purpose.OLT_V3_AUTH_KEY)
        if draft.v3_priv_key:
            values["v3_priv_key_sealed"] = sealed(draft.v3_priv_key, Purpose.OLT_V3_PRIV_KEY)
    if olt_id is None:
        return await queries.insert_olt(db, values | {"id": row_id})
    await queries.update_olt(db, row_id, values | {"updated_at": datetime.now(UTC)})
    return row_id


@dataclass(frozen=True)
class Removed:
    """What removing an OLT took with it, for the activity log and the message to the operator."""

    name: str
    onus: int
    customers_unlinked: int


async def remove_olt(scope: TenantScope, olt_id: int) -> Removed | None:
    """Delete the OLT with its ONUs and their Rx history (the tables cascade); None when it is already gone.

    Takes the sync's per-OLT lock first, so a sync writing this OLT's walk finishes before the delete, and a
    sync that walked it meanwhile finds it gone and writes nothing (``sync._write``). Customers keep their
    record; only their link to an ONU of this OLT goes.
    """
    connection = scope.connection
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1), $2)", writes.SYNC_LOCK, olt_id)
    row = await connection.fetchrow(
        """
        WITH gone AS (DELETE FROM olt WHERE id = $1 RETURNING name)
        SELECT gone.name,
               (SELECT count(*) FROM onu WHERE olt_id = $1) AS onus,
               (SELECT count(*) FROM onu WHERE olt_id = $1 AND customer_id IS NOT NULL) AS customers_unlinked
        FROM gone
        """,
        olt_id,
    )
    return None if row is None else Removed(row["name"], row["onus"], row["customers_unlinked"])


async def name_clash(data: dict[str, str], errors: dict[str, str], olt_id: int | None) -> dict[str, str]:
    name = (data.get("name") or "").strip()
    if "name" in errors or not name or not await queries.name_taken(name, olt_id):
        return {}
    return {"name": f"An OLT named {name!r} already exists."}


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    description: str = ""
    error: str = ""


async def test_connection(db: Database, tenant: TenantRef, secret_key: str, olt_id: int) -> ConnectionTest | None:
    """Ask the OLT for its sysDescr now (no transaction held while it answers); None for an unknown OLT."""
    async with db.tenant(tenant):
        olt = await queries.get_olt(olt_id)
    if olt is None:
        return None
    try:
        address = queries.address_of(olt, secret_key, tenant.id, timeout=TEST_TIMEOUT, retries=1)
        async with OltSession(address) as session:
            description = await session.system_description()
    except (OLTError, SealError, ValueError, OSError) as problem:
        return ConnectionTest(False, error=f"{type(problem).__name__}: {problem}")
    async with db.tenant(tenant):
        await queries.record_description(olt_id, description)
    return ConnectionTest(True, description=description)


class UnknownCustomer(LookupError):
    pass


async def map_by_hand(scope: TenantScope, onu_id: int, customer_code: str) -> str:
    """The operator's override: the customer with this code, or no customer for an empty code. The sync never
    changes a ``manual`` mapping. Returns a summary for the activity log."""
    code = customer_code.strip()
    if not code:
        await queries.set_mapping(onu_id, None, "manual")
        return "no customer (by hand)"
    customer = await queries.customer_by_code(code)
    if customer is None:
        raise UnknownCustomer(code)
    await queries.set_mapping(onu_id, customer["id"], "manual")
    return f"customer {customer['code']} (by hand)"


async def map_automatically_again(scope: TenantScope, onu_id: int) -> None:
    """Drop the override: the ONU goes back to the rule, applied now."""
    onu = await queries.get_onu(onu_id)
    if onu is None:
        return
    await queries.set_mapping(onu_id, None, "none")
    rules = await queries.settings()
    await writes.map_automatically(
        scope.connection, onu["olt_id"], rules["match_onu_field"], rules["match_customer_field"]
    )


async def apply_rule(scope: TenantScope) -> None:
    """Apply the (new) mapping rule to every OLT's ONUs now, not at the next sync."""
    rules = await queries.settings()
    await writes.map_automatically(scope.connection, None, rules["match_onu_field"], rules["match_customer_field"])
