"""The demo operators' notification settings: the demo SMS sink as gateway, reminders, event messages, credit.

Set only where the operator has no gateway yet, so a visitor's own settings survive a restart of the demo
(the sink's address is refreshed, as the demo may run on another port).
"""

import json

from ispb_tenants import Database, TenantRef

EVENTS = ("payment.received", "customer.suspended", "customer.activated", "customer.created", "package.changed")


async def mark_history_told(db: Database, tenant: TenantRef) -> None:
    """The demo's made-up history (last month's payments at set-up) is not news: no messages for it."""
    async with db.tenant(tenant) as scope:
        await scope.connection.execute("UPDATE domain_event SET notified_at = now() WHERE notified_at IS NULL")


async def prepare_notifications(db: Database, tenant: TenantRef, gateway_url: str) -> None:
    config = {
        "url": gateway_url,
        "method": "GET",
        "params": {"to": "{to}", "text": "{text}", "ref": "{ref}"},
        "success_pattern": "Accepted",
        "message_id_pattern": "Accepted: (\\S+)",
        "timeout": 5.0,
    }
    async with db.tenant(tenant) as scope:
        connection = scope.connection
        existing = await connection.fetchval("SELECT config->>'url' FROM notify_gateway WHERE channel = 'sms'")
        if existing is None or "/demo/sms-gateway/" in existing:
            await connection.execute(
                "INSERT INTO notify_gateway (channel, kind, config) VALUES ('sms', 'http_sms', $1::jsonb)"
                " ON CONFLICT (channel) DO UPDATE SET config = EXCLUDED.config",
                json.dumps(config),
            )
        if existing is None:
            for offset in (-3, 0, 2):
                await connection.execute(
                    "INSERT INTO notify_rule (kind, offset_days) VALUES ('due_date', $1) ON CONFLICT DO NOTHING",
                    offset,
                )
            for event in EVENTS:
                await connection.execute(
                    "INSERT INTO notify_event (event, enabled) VALUES ($1, true) ON CONFLICT DO NOTHING", event
                )
    await db.pool.execute("UPDATE platform.tenant SET sms_credit = greatest(sms_credit, 5000) WHERE id = $1", tenant.id)
