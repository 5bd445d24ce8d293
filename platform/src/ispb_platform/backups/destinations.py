"""The platform's backup destination, from ``platform.backup_settings`` (the admin console edits it).

The bucket's secret access key is sealed (``secrets_box``) for the platform (tenant id 0, like the
platform's own payment gateway accounts) and the purpose ``backup.s3_secret``.
"""

from dataclasses import dataclass
from pathlib import Path

from ispb_platform.backups.storage import Destination, LocalDestination, S3Destination
from ispb_platform.secrets_box import Binding, Purpose, reveal, seal
from ispb_tenants import Database

PLATFORM = 0
S3_SECRET = Binding(PLATFORM, Purpose.BACKUP_S3_SECRET, "backup_settings")


@dataclass(frozen=True)
class BackupSettings:
    destination: str
    s3_endpoint: str
    s3_bucket: str
    s3_region: str
    s3_prefix: str
    s3_access_key: str
    has_s3_secret: bool
    full_keep_daily: int
    full_keep_weekly: int
    full_keep_monthly: int


async def load_settings(db: Database) -> BackupSettings:
    async with db.platform() as connection:
        row = await connection.fetchrow(
            "SELECT destination, s3_endpoint, s3_bucket, s3_region, s3_prefix, s3_access_key,"
            " s3_secret_sealed IS NOT NULL AS has_s3_secret, full_keep_daily, full_keep_weekly, full_keep_monthly"
            " FROM backup_settings"
        )
    assert row is not None  # the migration inserts the one row
    return BackupSettings(**dict(row))


async def save_settings(db: Database, settings: BackupSettings, *, s3_secret: str | None, secret_key: str) -> None:
    """Store the destination and retention; ``s3_secret`` None keeps the sealed one, "" clears it."""
    sealed = seal(secret_key, s3_secret, S3_SECRET) if s3_secret else None
    async with db.platform() as connection:
        await connection.execute(
            "UPDATE backup_settings SET destination = $1, s3_endpoint = $2, s3_bucket = $3, s3_region = $4,"
            " s3_prefix = $5, s3_access_key = $6,"
            " s3_secret_sealed = CASE WHEN $7::boolean THEN s3_secret_sealed ELSE $8 END,"
            " full_keep_daily = $9, full_keep_weekly = $10, full_keep_monthly = $11, updated_at = now()",
            settings.destination,
            settings.s3_endpoint,
            settings.s3_bucket,
            settings.s3_region,
            settings.s3_prefix,
            settings.s3_access_key,
            s3_secret is None,
            sealed,
            settings.full_keep_daily,
            settings.full_keep_weekly,
            settings.full_keep_monthly,
        )


async def destination_named(db: Database, name: str, *, data_dir: Path | None, secret_key: str) -> Destination:
    """The destination called ``name`` (``local`` or ``s3``), as configured now."""
    if name == "local":
        if data_dir is None:
            raise RuntimeError("backups to the local disk need ISPB_DATA_DIR")
        return LocalDestination(data_dir / "backups")
    async with db.platform() as connection:
        row = await connection.fetchrow("SELECT * FROM backup_settings")
    assert row is not None  # the migration inserts the one row
    if not row["s3_bucket"] or row["s3_secret_sealed"] is None:
        raise RuntimeError("no S3 bucket is configured for backups: set one in the admin console")
    return S3Destination(
        bucket=row["s3_bucket"],
        endpoint=row["s3_endpoint"],
        region=row["s3_region"],
        access_key=row["s3_access_key"],
        secret_key=reveal(secret_key, row["s3_secret_sealed"], S3_SECRET),
        prefix=row["s3_prefix"],
    )


async def current_destination(db: Database, *, data_dir: Path | None, secret_key: str) -> Destination:
    """Where new backups go."""
    return await destination_named(db, (await load_settings(db)).destination, data_dir=data_dir, secret_key=secret_key)
