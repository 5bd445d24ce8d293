"""``monitor.zabbix_sync`` (every 5 minutes, per operator with Zabbix configured): the hosts and active problems
of the operator's Zabbix, read through ``ispb_monitor.zabbix`` and stored whole (the last sync's picture), so
the Monitoring dashboard shows them beside our own checks without asking Zabbix on every page view.

No transaction is held while Zabbix answers: the settings are read in one short scope, the answer written in
another. A failure keeps the last picture and records the error (shown on the dashboard); the next run tries
again. Safe twice: each run replaces the whole picture in one transaction under a per-tenant advisory lock.
"""

from datetime import UTC, datetime

from ispb_monitor.zabbix import ZabbixClient, ZabbixError
from ispb_notify import OutboundPolicy
from ispb_platform.monitoring import queries
from ispb_platform.secrets_box import Binding, Purpose, SealError, reveal
from ispb_tenants import Database, TenantRef

ZABBIX_ROW = 1
"""The row a Zabbix token is sealed for (``monitor_settings`` has one)."""


def zabbix_binding(tenant_id: int) -> Binding:
    return Binding(tenant_id, Purpose.ZABBIX_TOKEN, ZABBIX_ROW)


async def sync(db: Database, tenant: TenantRef, *, secret_key: str, outbound: OutboundPolicy) -> dict[str, int]:
    async with db.tenant(tenant) as scope:
        found = await queries.settings(scope.connection)
    url, sealed = found.get("zabbix_url") or "", found.get("zabbix_token_sealed")
    if not url or not sealed:
        return {"not_configured": 1}
    try:
        token = reveal(secret_key, str(sealed), zabbix_binding(tenant.id))
        async with ZabbixClient(url, token=token, policy=outbound) as client:
            hosts = await client.hosts()
            problems = await client.problems()
    except (ZabbixError, SealError) as error:
        async with db.tenant(tenant) as scope:
            await queries.zabbix_failed(scope.connection, str(error))
        return {"failed": 1}
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext('monitor.zabbix_sync'), hashtext($1))", tenant.schema
        )
        await queries.replace_zabbix(
            scope.connection,
            [(h.hostid, h.host, h.name, h.enabled, h.available) for h in hosts],
            [
                (
                    p.eventid,
                    p.triggerid,
                    p.name,
                    int(p.severity),
                    p.acknowledged,
                    p.since,
                    ", ".join(name for _, name in p.hosts),
                )
                for p in problems
            ],
            datetime.now(UTC),
        )
    return {"hosts": len(hosts), "problems": len(problems)}
