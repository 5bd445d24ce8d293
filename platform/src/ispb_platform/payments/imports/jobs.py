"""``payments.confirm_imports``: records the statement imports an operator asked to record (``service.py``).

Queued at once by the "Record" button (``run_soon``) and, as a backstop, every minute for the operators that have
an import waiting (``CONFIRMING_DUE``): a request made while the queue was away, or a run killed mid-way, is
picked up within the minute and goes on from its last committed chunk.
"""

from ispb_platform.jobs.job import Counts, JobContext
from ispb_platform.payments.imports.service import confirm_requested

CONFIRMING_DUE = "EXISTS (SELECT FROM {schema}.payment_import WHERE status = 'confirming')"
"""The job's ``due_work``: answered from the partial index ``payment_import_confirming_idx`` (tenant 0021)."""


async def confirm_imports(ctx: JobContext) -> Counts:
    tenant = ctx.require_tenant()
    done = await confirm_requested(ctx.db, tenant, today=ctx.today, secret_key=ctx.secret_key, queue=ctx.queue)
    return {
        "imports": sum(c.finished for c in done),
        "payments": sum(c.recorded for c in done),
        "reactivated": sum(c.reactivated for c in done),
    }
