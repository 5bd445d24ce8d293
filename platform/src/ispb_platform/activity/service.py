"""The activity log: who did what, when and from where (Logs → Activity Log).

Written in the same transaction as the change it describes, so the log never claims a change that rolled back.
Every domain records through `record_activity`; the rows themselves are read and written in ``queries.py``.
"""

from dataclasses import dataclass
from typing import Any

from ispb_platform.activity import queries
from ispb_platform.activity.queries import ActivityEntry
from ispb_platform.auth.roles import Principal
from ispb_tenants import TenantScope

PAGE_SIZE = 100


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
    """Log ``action`` by ``principal`` (``system`` when None) in ``scope``, the open tenant transaction.

    The insert is a Piccolo query, so it runs in that transaction without being handed its connection; the
    ``scope`` argument keeps every call site saying which transaction the entry belongs to. For example::

        await record_activity(db, operator, "package.created", object_type="package", object_id=7,
                              summary="Created package Home 10", ip=client_ip(request))
    """
    await queries.insert_activity(
        actor=actor_label(principal),
        actor_user_id=principal.user_id if principal else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
        details=details or {},
        ip=ip or None,
    )


def actor_label(principal: Principal | None) -> str:
    """How the log names who acted: ``Name <login>``, or ``system`` for jobs."""
    return f"{principal.name} <{principal.login}>" if principal else "system"


@dataclass(frozen=True)
class ActivityPage:
    rows: list[ActivityEntry]
    older: int | None
    """The id to pass as ``before`` for the next (older) page; None on the last page."""


async def activity_page(before: int | None) -> ActivityPage:
    rows = await queries.latest(before=before, limit=PAGE_SIZE)
    return ActivityPage(rows, rows[-1]["id"] if len(rows) == PAGE_SIZE else None)
