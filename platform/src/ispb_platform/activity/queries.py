"""Reads and writes of the activity log, through Piccolo: one insert, and newest-first pages by id (keyset).

Every query runs in the caller's open tenant scope (``db.tenant(...)`` or ``@in_tenant_scope``), so the rows are
the signed-in operator's own.
"""

import json
from datetime import datetime
from typing import Any, TypedDict, cast

from ispb_tenants.tables import ActivityLog

# Piccolo adds ``id`` to each table class at run time; type checkers see it as ``_meta.primary_key``
# (lower case: linters take an upper-case name for a constant and would turn ``pk == value`` around)
_activity_log_pk = ActivityLog._meta.primary_key


class ActivityEntry(TypedDict):
    """One line of the log as the pages show it."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: str
    ip: str | None


_ENTRY = (
    _activity_log_pk,
    ActivityLog.at,
    ActivityLog.actor,
    ActivityLog.action,
    ActivityLog.object_type,
    ActivityLog.object_id,
    ActivityLog.summary,
    ActivityLog.ip,
)


async def insert_activity(
    *,
    actor: str,
    actor_user_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    summary: str,
    details: dict[str, Any],
    ip: str | None,
) -> None:
    entry = ActivityLog(
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary,
        details=json.dumps(details, default=str),  # dates and decimals as text, as before
        ip=ip,
    )
    await ActivityLog.insert(entry)


async def latest(*, before: int | None, limit: int) -> list[ActivityEntry]:
    """The newest ``limit`` entries, or those older than entry ``before`` (the "Older entries" link)."""
    query = ActivityLog.select(*_ENTRY).order_by(_activity_log_pk, ascending=False).limit(limit)
    if before is not None:
        query = query.where(before > _activity_log_pk)
    return cast(list[ActivityEntry], await query)


async def latest_for(object_type: str, object_id: object, *, limit: int) -> list[ActivityEntry]:
    """The newest entries about one object, e.g. a customer (index ``activity_log_object_idx``)."""
    query = (
        ActivityLog.select(*_ENTRY)
        .where((ActivityLog.object_type == object_type) & (ActivityLog.object_id == str(object_id)))
        .order_by(ActivityLog.at, ascending=False)
        .limit(limit)
    )
    return cast(list[ActivityEntry], await query)


async def latest_about(object_types: tuple[str, ...], *, limit: int) -> list[ActivityEntry]:
    """The newest entries about any object of these types, e.g. the operator and its staff for the admin
    console's operator page."""
    query = (
        ActivityLog.select(*_ENTRY)
        .where(ActivityLog.object_type.is_in(list(object_types)))
        .order_by(_activity_log_pk, ascending=False)
        .limit(limit)
    )
    return cast(list[ActivityEntry], await query)
