"""The activity log: who did what, when and from where (Logs → Activity Log).

Written in the same transaction as the change it describes, so the log never claims a change that rolled back.
"""

import json
from typing import Any

from ispb_platform.auth.roles import Principal
from ispb_tenants import TenantScope


async def record_activity(
    scope: TenantScope,
    principal: Principal | None,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    summary: str = "",
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> None:
    await scope.connection.execute(
        "INSERT INTO activity_log (actor, actor_user_id, action, object_type, object_id, summary, details, ip)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)",
        f"{principal.name} <{principal.login}>" if principal else "system",
        principal.user_id if principal else None,
        action,
        object_type,
        str(object_id),
        summary,
        json.dumps(details or {}, default=str),
        ip or None,
    )
