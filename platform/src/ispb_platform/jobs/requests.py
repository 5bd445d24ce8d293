"""Jobs a person asks for from a page ("Back up now", "Restore..."): run by a worker, not in the web request.

A request is a ``platform.job_request`` row first and a queue job second: the page shows the row (queued,
running, succeeded or failed with its message) and polls it, so what it says never depends on the queue alone.
One request at a time per operator and *lane* (a backup and a restore of the same operator share one): the
unique partial index refuses a second while one is queued or running, whatever the race, and the page says so.

The worker claims a row by moving it from ``queued`` to ``running`` (`claim_request`, run by
``jobs/request_runner.py``); a second delivery of the same queue job (a retry, a sweep) finds nothing to claim
and does nothing, so a request runs at most once. A request whose worker died, or whose queue job was lost
before it started, is failed by ``system.close_dead_runs`` (``jobs/reaper.py``): no page says "running"
forever, and the person may ask again.

This module names no domain: a domain defines its `RequestedJob` next to its code, and ``jobs/registry.py``
lists them for the worker and the reaper.
"""

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from saq import Queue

from ispb_platform.jobs.job import JobContext
from ispb_tenants import Database, TenantRef

RUN_REQUEST = "ispb.run_request"
"""The worker task that runs one request (``jobs/worker.py``)."""
HEARTBEAT_S = 60
"""As the schedule's jobs (``jobs/worker.py`` ``HEARTBEAT_S``): a dead worker's request is swept within minutes."""
FINISHED_TTL_S = 600
"""How long the queue keeps a finished request's job: the row is the history, not the queue."""

log = logging.getLogger(__name__)


class RequestFailed(Exception):
    """A requested job that did not do its work; the message is for the person who asked, shown as it is."""


class AlreadyRequested(Exception):
    """The operator already has a request of this lane queued or running (``request`` is that one)."""

    def __init__(self, request: "JobRequest") -> None:
        super().__init__(f"{request.job} is already {request.status} (request {request.id})")
        self.request = request


@dataclass(frozen=True)
class Outcome:
    """What a requested job did: the message the page shows, and values it keeps (ids, counts) for the page."""

    message: str
    result: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRequest:
    id: int
    job: str
    lane: str
    tenant_id: int
    arguments: dict[str, Any]
    requested_by: str
    status: str
    message: str
    result: dict[str, Any]
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker: str

    @property
    def open(self) -> bool:
        """Queued or running: the page polls while it is."""
        return self.status in ("queued", "running")

    @property
    def key(self) -> str:
        return request_key(self.id)


@dataclass(frozen=True)
class RequestedJob:
    """A job people start from a page. ``run`` gets the context and the request, returns the `Outcome` or raises
    `RequestFailed` with the message to show; anything else it raises is shown with its type and logged."""

    name: str
    lane: str
    run: Callable[[JobContext, JobRequest], Awaitable[Outcome]]
    description: str
    timeout_s: int
    """SAQ cancels the job after it; sized above the work at the largest operator measured (docs/backups.md)."""
    when_dead: Callable[[Database, "JobRequest"], Awaitable[None]] | None = None
    """What to close after a worker died running it (the reaper calls it with the request as last noted: see
    `note_result`), e.g. a backup row it left ``running``."""


def request_key(request_id: int) -> str:
    return f"request:{request_id}"


_COLUMNS = (
    "id, job, lane, tenant_id, arguments, requested_by, status, message, result, requested_at, started_at,"
    " finished_at, worker"
)


_INSERT = f"""
INSERT INTO job_request (job, lane, tenant_id, arguments, requested_by) VALUES ($1, $2, $3, $4::jsonb, $5)
ON CONFLICT (tenant_id, lane) WHERE status IN ('queued', 'running') DO NOTHING
RETURNING {_COLUMNS}
"""  # noqa: S608 (constants only)


def _request(row: Any) -> JobRequest:
    values = dict(row)
    for name in ("arguments", "result"):
        if isinstance(values[name], str):
            values[name] = json.loads(values[name])
    return JobRequest(**values)


async def request_job(
    db: Database, queue: Queue, job: RequestedJob, tenant: TenantRef, arguments: Mapping[str, Any], requested_by: str
) -> JobRequest:
    """Queue ``job`` for ``tenant``; `AlreadyRequested` when one of its lane is queued or running.

    The row is committed before the queue job exists: a queue that cannot be reached fails the row at once
    with a message (the person may try again); a process that dies in between leaves a queued row without a
    queue job, which the reaper fails."""
    async with db.platform() as connection:
        row = await connection.fetchrow(
            _INSERT,
            job.name, job.lane, tenant.id, json.dumps(dict(arguments)), requested_by,
        )  # fmt: skip
        if row is None:
            current = await connection.fetchrow(
                f"SELECT {_COLUMNS} FROM job_request WHERE tenant_id = $1 AND lane = $2"  # noqa: S608
                " AND status IN ('queued', 'running')",
                tenant.id, job.lane,
            )  # fmt: skip
    if row is None:
        if current is None:  # it ended between the two statements: ask again
            return await request_job(db, queue, job, tenant, arguments, requested_by)
        raise AlreadyRequested(_request(current))
    request = _request(row)
    try:
        await queue.enqueue(
            RUN_REQUEST,
            key=request.key,
            request_id=request.id,
            timeout=job.timeout_s,
            retries=1,  # never run twice by the queue: a dead worker's request is failed and asked again
            heartbeat=HEARTBEAT_S,
            ttl=FINISHED_TTL_S,
        )
    except Exception as error:
        log.exception("could not queue request %d (%s)", request.id, job.name)
        return (
            await finish_request(
                db, request.id, "failed", f"the job queue could not be reached ({type(error).__name__}): try again"
            )
            or request
        )
    return request


async def latest_request(db: Database, tenant_id: int, lane: str) -> JobRequest | None:
    """The operator's newest request of ``lane``: what the page shows."""
    async with db.platform() as connection:
        row = await connection.fetchrow(
            f"SELECT {_COLUMNS} FROM job_request WHERE tenant_id = $1 AND lane = $2 ORDER BY id DESC LIMIT 1",  # noqa: S608
            tenant_id, lane,
        )  # fmt: skip
    return _request(row) if row else None


async def get_request(db: Database, request_id: int) -> JobRequest | None:
    async with db.platform() as connection:
        row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM job_request WHERE id = $1", request_id)  # noqa: S608
    return _request(row) if row else None


async def note_result(db: Database, request_id: int, values: Mapping[str, Any]) -> None:
    """Add ``values`` to a running request's result as it goes (what it started: a backup row's id), so the
    reaper can hand them to ``when_dead`` if the worker dies."""
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE job_request SET result = result || $2::jsonb WHERE id = $1 AND status = 'running'",
            request_id, json.dumps(dict(values)),
        )  # fmt: skip


async def finish_request(
    db: Database, request_id: int, status: str, message: str, result: Mapping[str, Any] | None = None
) -> JobRequest | None:
    """End an open request (None if it had ended already: the reaper and the worker never both end it)."""
    async with db.platform() as connection:
        row = await connection.fetchrow(
            "UPDATE job_request SET status = $2, message = $3, result = result || $4::jsonb,"  # noqa: S608
            f" finished_at = clock_timestamp() WHERE id = $1 AND status IN ('queued', 'running') RETURNING {_COLUMNS}",
            request_id, status, message, json.dumps(dict(result or {})),
        )  # fmt: skip
    return _request(row) if row else None


async def claim_request(db: Database, request_id: int, worker: str) -> tuple[JobRequest, str] | None:
    """Move a queued request to ``running`` for ``worker``; the request and its operator's slug, or None when it
    is not queued (already run, or failed by the reaper)."""
    async with db.platform() as connection:
        row = await connection.fetchrow(
            f"UPDATE job_request SET status = 'running', started_at = clock_timestamp(), worker = $2"  # noqa: S608
            f" WHERE id = $1 AND status = 'queued' RETURNING {_COLUMNS}",
            request_id, worker,
        )  # fmt: skip
        slug = await connection.fetchval("SELECT slug FROM tenant WHERE id = $1", row["tenant_id"]) if row else None
    if row is None or slug is None:
        return None
    return _request(row), slug
