"""What a job is: a named async function, its schedule and scope, and the context it runs with."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from saq import Queue

from ispb_notify import OutboundPolicy
from ispb_tenants import Database, TenantRef


class JobScope(StrEnum):
    PLATFORM = "platform"
    """Runs once for the whole platform."""
    TENANT = "tenant"
    """Runs once per active tenant; the cron tick fans out one queued job per tenant."""


@dataclass(frozen=True)
class JobContext:
    """Everything a job may use. ``today`` is the tenant's local date (or given by ``--today``)."""

    db: Database
    today: date
    now: datetime
    tenant: TenantRef | None = None
    secret_key: str = ""
    """``ISPB_SECRET_KEY``, for jobs that open sealed secrets (router passwords)."""
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    """Where jobs may send requests to URLs operators typed (``ISPB_OUTBOUND_ALLOW``): public addresses only by
    default."""

    public_ipv4: str | None = None
    """``ISPB_PUBLIC_IPV4``: the address this server's calls come from, for gateways that whitelist it (Nagad)."""

    data_dir: Path | None = None
    """``ISPB_DATA_DIR``, for jobs that keep files (traffic graphs); None where no files may be written."""

    queue: Queue | None = None
    """The job queue, for jobs that enqueue work (``system.close_dead_runs`` reruns a dead worker's jobs); None
    when run outside a worker (``ispb jobs run``)."""

    def require_tenant(self) -> TenantRef:
        if self.tenant is None:
            raise RuntimeError("this job runs per tenant and was started without one")
        return self.tenant


RUN_NOW = "now-"
"""The period of a "Run now" key (``<job>:<tenant>:now-<time>``, ``jobs/service.py``): the queued run is a
person's, recorded as manual (``runs.trigger_of``)."""

Counts = Mapping[str, int]
JobFunction = Callable[[JobContext], Awaitable[Counts]]


@dataclass(frozen=True)
class ScheduledJob:
    """One row of the schedule (DESIGN 3). The function returns counts for the run record."""

    name: str
    cron: str
    """Standard 5-field cron, evaluated in UTC."""
    scope: JobScope
    run: JobFunction
    description: str
    timeout_s: int = 600
    """Above the job's real runtime: SAQ cancels a job at its timeout (its default is 10 s)."""
    retries: int = 4
    """Attempts in all; retried with exponential backoff. Correctness comes from the data, not the queue."""
    retry_delay_s: float = 5.0
    due_work: str | None = None
    """For a tenant job: an SQL condition (tables named ``{schema}.table``) true whenever the tenant could have
    work for it, answered by an index probe. The tick then queues the job only for those tenants
    (``jobs/due.py``), not for every one. A test that is false while work waits loses that work silently: each
    is tested both ways (tests/integration/test_due_work.py). None: the job fans out to every operator."""
    observed_counts: frozenset[str] = frozenset()
    """Counts that describe rather than tell work done (the heartbeat's active tenants, a retention setting):
    a run whose other counts are all zero did nothing, and is not logged (``jobs/runs.py``)."""
