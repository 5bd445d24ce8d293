"""Re-sealing every sealed value of every tenant: after an upgrade (``ispb secrets reseal``) and to rotate the
key (``ispb secrets rotate``).

A value is opened with any key given (the current ``ISPB_SECRET_KEY``, ``ISPB_OLD_SECRET_KEYS``, and for a
rotation the new key too, so a rerun goes on where it stopped) and sealed again under the target key, bound to
its tenant, purpose and row (``secrets_box``). Values already in today's format under the target key are left
alone, so both commands are idempotent and resumable. Each tenant's columns are rewritten in batches in row
order, a transaction per batch. A value that opens with none of the keys is reported (tenant, table, row, reason) and
left as it is: its owner enters it again, or the missing key is added and the command run again.

Key rotation, without downtime::

    1. ISPB_SECRET_KEY=<new>, ISPB_OLD_SECRET_KEYS=<old> on every process; restart them.
       New values are sealed under the new key; old ones still open.
    2. ispb secrets reseal            # everything under the new key
    3. remove ISPB_OLD_SECRET_KEYS; restart. The old key can no longer open anything stored.

Or, with every process stopped: ``NEW=<new> ispb secrets rotate --new-key-env NEW`` (with the old key still in
``ISPB_SECRET_KEY``), then set ``ISPB_SECRET_KEY=<new>`` and start again. ``ISPB_SECRET_KEY`` also signs
shared invoice links, CSRF tokens and portal sign-in codes: those made with the old key stop working (sessions
do not: they are random tokens).
"""

from collections import Counter
from dataclasses import dataclass, field

from ispb_platform.backups.destinations import S3_SECRET
from ispb_platform.payments.online.accounts import PLATFORM_ACCOUNTS
from ispb_platform.secrets import queries
from ispb_platform.secrets.queries import SEALED_COLUMNS, SealedValue
from ispb_platform.secrets_box import Binding, Purpose, SealError, key_id, reveal, seal
from ispb_tenants import Database, TenantRef, list_tenants

BATCH = 500


@dataclass(frozen=True)
class Unreadable:
    tenant: str
    table: str
    row: int | str
    reason: str


@dataclass
class ResealReport:
    key_id: str
    """The key everything is sealed under now."""
    resealed: Counter[str] = field(default_factory=Counter)
    """Values re-sealed, per tenant slug."""
    unreadable: list[Unreadable] = field(default_factory=list)


async def reseal_all(
    db: Database,
    *,
    target_key: str,
    open_with: tuple[str, ...],
    only: tuple[str, ...] = (),
    platform: bool | None = None,
) -> ResealReport:
    """Seal every value of every tenant (or of the tenants whose slugs are in ``only``) under ``target_key``,
    opening them with ``target_key`` or ``open_with``; and the platform's own payment gateway accounts
    (``platform``: by default when no tenant is named)."""
    report = ResealReport(key_id(target_key))
    tenants = [info.ref for info in await list_tenants(db) if not only or info.ref.slug in only]
    missing = set(only) - {t.slug for t in tenants}
    if missing:
        raise ValueError(f"no such operator: {', '.join(sorted(missing))}")
    for tenant in tenants:
        await _reseal_tenant(db, tenant, target_key, open_with, report)
    if platform if platform is not None else not only:
        await _reseal_platform_gateways(db, target_key, open_with, report)
        await _reseal_backup_bucket(db, target_key, open_with, report)
    return report


async def _reseal_backup_bucket(
    db: Database, target_key: str, open_with: tuple[str, ...], report: ResealReport
) -> None:
    """``platform.backup_settings``: the backup bucket's secret access key (one value)."""
    async with db.platform() as connection:
        sealed = await connection.fetchval(
            "SELECT s3_secret_sealed FROM backup_settings WHERE s3_secret_sealed NOT LIKE $1 FOR UPDATE",
            f"v2:{key_id(target_key)}:%",
        )
        if sealed is None:
            return
        try:
            plain = reveal(target_key, sealed, S3_SECRET, old_keys=open_with)
        except SealError as problem:
            report.unreadable.append(Unreadable("platform", "backup_settings", "s3_secret", str(problem)))
            return
        await connection.execute("UPDATE backup_settings SET s3_secret_sealed = $1", seal(target_key, plain, S3_SECRET))
        report.resealed["platform"] += 1


async def _reseal_platform_gateways(
    db: Database, target_key: str, open_with: tuple[str, ...], report: ResealReport
) -> None:
    """``platform.payment_gateway``: a handful of rows, sealed for tenant id 0 (``PLATFORM_ACCOUNTS``)."""
    async with db.platform() as connection:
        rows = await connection.fetch(
            "SELECT provider, secret_sealed FROM platform.payment_gateway WHERE secret_sealed IS NOT NULL"
            " AND secret_sealed NOT LIKE $1 ORDER BY provider FOR UPDATE",
            f"v2:{key_id(target_key)}:%",
        )
        for row in rows:
            binding = Binding(PLATFORM_ACCOUNTS, Purpose.PAYMENT_GATEWAY_SECRET, row["provider"])
            try:
                plain = reveal(target_key, row["secret_sealed"], binding, old_keys=open_with)
            except SealError as problem:
                report.unreadable.append(Unreadable("platform", "payment_gateway", row["provider"], str(problem)))
                continue
            await connection.execute(
                "UPDATE platform.payment_gateway SET secret_sealed = $2 WHERE provider = $1",
                row["provider"],
                seal(target_key, plain, binding),
            )
            report.resealed["platform"] += 1


async def _reseal_tenant(
    db: Database, tenant: TenantRef, target_key: str, open_with: tuple[str, ...], report: ResealReport
) -> None:
    kid = key_id(target_key)
    for column in SEALED_COLUMNS:
        after: int | str | None = None
        while True:
            async with db.tenant(tenant) as scope:
                found = await queries.stale_values(scope, column, kid, after=after, limit=BATCH)
                resealed: list[SealedValue] = []
                for value in found:
                    binding = Binding(tenant.id, column.purpose, value.row)
                    try:
                        plain = reveal(target_key, value.sealed, binding, old_keys=open_with)
                    except SealError as problem:
                        report.unreadable.append(Unreadable(tenant.slug, column.table, value.row, str(problem)))
                        continue
                    resealed.append(SealedValue(value.row, seal(target_key, plain, binding)))
                if resealed:
                    await queries.replace_values(scope, column, resealed)
            report.resealed[tenant.slug] += len(resealed)
            if len(found) < BATCH:
                break
            after = found[-1].row
