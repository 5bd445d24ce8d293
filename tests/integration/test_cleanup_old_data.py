"""``maintenance.cleanup_old_data``: each kind of obsolete record goes by its own setting, counted in the run
record; what is still in retention (or still work) stays; a second run deletes nothing more."""

import secrets
from datetime import UTC, date, datetime
from pathlib import Path

from factories import make_customer
from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_tenants import Database, TenantRef

OLD, RECENT = "now() - interval '400 days'", "now() - interval '1 day'"


async def _seed(db: Database, tenant: TenantRef, data_dir: Path) -> int:
    for when in (OLD, RECENT):
        await db.pool.execute(
            "INSERT INTO platform.web_session (id, kind, user_id, tenant_id, expires_at)"
            f" VALUES ($1, 'staff', 1, $2, {when})",
            secrets.token_hex(32), tenant.id,
        )  # fmt: skip
        await db.pool.execute(
            "INSERT INTO platform.staff_invitation (tenant_id, email, name, role, token_hash, expires_at)"
            f" VALUES ($1, 'i@isp.test', 'I', 'operator_staff', $2, {when})",
            tenant.id, secrets.token_hex(32),
        )  # fmt: skip
        for _ in range(2):  # old ended requests go; a lane's latest stays
            await db.pool.execute(
                "INSERT INTO platform.job_request (job, lane, tenant_id, status, requested_at, finished_at)"
                f" VALUES ('backup.take_now', 'backup', $1, 'succeeded', {when}, {when})",
                tenant.id,
            )
        for _ in range(2):  # old runs go; a job's latest run stays (test_worker.py shows it kept when old)
            await db.pool.execute(
                "INSERT INTO platform.job_run (job, tenant_id, job_key, today, trigger, status, started_at)"
                f" VALUES ('billing.generate_bills', $1, 'k', current_date, 'schedule', 'succeeded', {when})",
                tenant.id,
            )
    async with db.tenant(tenant) as scope:
        customer = await make_customer(scope)
        gone = await make_customer(scope)
        for n, when in enumerate((OLD, RECENT)):
            await scope.connection.execute(
                f"INSERT INTO otp_code (customer_id, code_hash, expires_at) VALUES ($1, 'h', {when})",
                customer,
            )
            for status in ("sent", "failed"):
                await scope.connection.execute(
                    "INSERT INTO outbox (key, channel, to_address, body, segments, cause, status, sent_at)"
                    f" VALUES ($1, 'sms', '+880', 'Hi', 1, 'test', $2, {when})",
                    f"t:{n}:{status}", status,
                )  # fmt: skip
        await scope.connection.execute("DELETE FROM customer WHERE id = $1", gone)
    graphs = data_dir / "rrd" / tenant.slug
    graphs.mkdir(parents=True)
    for customer_id in (customer, gone):
        (graphs / f"customer-{customer_id}.rrd").write_bytes(b"rrd")
    (graphs / "router-1-ether1.rrd").write_bytes(b"rrd")
    return customer


async def test_old_data_goes_by_each_setting_and_a_second_run_deletes_nothing(
    db: Database, make_tenant, tmp_path: Path
):
    tenant = await make_tenant("old")
    customer = await _seed(db, tenant, tmp_path)
    job = get_job("maintenance.cleanup_old_data")
    run = await execute(
        db, job, tenant=tenant, trigger=Trigger.MANUAL, key="c", today=date.today(), now=datetime.now(UTC),
        data_dir=tmp_path,
    )  # fmt: skip
    assert run.status == "succeeded"
    assert run.counts == {
        "sessions_deleted": 1, "invitations_deleted": 1, "job_runs_deleted": 2, "requests_deleted": 2,
        "codes_deleted": 1,
        "messages_deleted": 1, "accounting_months_dropped": 0, "graph_files_deleted": 1,
        "expired_login_retention_days": 7, "outbox_retention_days": 180, "job_run_retention_days": 90,
        "accounting_retention_months": 12,
    }  # fmt: skip
    async with db.tenant(tenant) as scope:
        statuses = await scope.connection.fetch("SELECT status FROM outbox ORDER BY key")
    assert [r["status"] for r in statuses] == ["failed", "failed", "sent"]  # failed ones are evidence: kept
    left = sorted(p.name for p in (tmp_path / "rrd" / tenant.slug).iterdir())
    assert left == [f"customer-{customer}.rrd", "router-1-ether1.rrd"]
    again = await execute(
        db, job, tenant=tenant, trigger=Trigger.MANUAL, key="c", today=date.today(), now=datetime.now(UTC),
        data_dir=tmp_path,
    )  # fmt: skip
    assert {k: v for k, v in again.counts.items() if k.endswith("_deleted")} == dict.fromkeys(
        ("sessions_deleted", "invitations_deleted", "job_runs_deleted", "requests_deleted", "codes_deleted",
         "messages_deleted", "graph_files_deleted"), 0,
    )  # fmt: skip
