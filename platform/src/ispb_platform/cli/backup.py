"""``ispb backup list|create|restore``: the same backups the schedule takes, by hand."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from ispb_platform.admin.service import AccountRefused, add_operator_owner, email_in_use
from ispb_platform.backups.destinations import current_destination, destination_named
from ispb_platform.backups.dump import take_backup
from ispb_platform.backups.pg_process import BackupFailed
from ispb_platform.backups.queries import find_by_file, list_backups
from ispb_platform.backups.restore import restore_database, restore_tenant
from ispb_platform.backups.storage import BackupStorageError, Destination, LocalDestination
from ispb_platform.backups.tools import BackupToolMismatch
from ispb_platform.cli.common import Failed, console, database, local_part, owner_password, run, settings
from ispb_platform.secrets_box import SealError
from ispb_tenants import Database, get_tenant


@click.group()
def backup() -> None:
    """Backups: list, take one now, restore one."""


def _failures() -> tuple[type[Exception], ...]:
    return (BackupFailed, BackupStorageError, BackupToolMismatch, SealError, RuntimeError)


@backup.command(name="list")
@click.option("--tenant", "slug", default=None, help="Only this operator's backups.")
def list_(slug: str | None) -> None:
    """Backups, newest first, with size and the outcome of their restore test."""
    config = settings()

    async def main() -> None:
        async with database(config) as db:
            tenant_id = (await get_tenant(db, slug)).id if slug else None
            rows = await list_backups(db, tenant_id=tenant_id, limit=200)
        table = Table("file", "operator", "taken", "status", "size", "where", "restore test")
        for row in rows:
            test = "not yet" if row.verify_ok is None else ("passed" if row.verify_ok else "FAILED")
            table.add_row(
                row.file_name,
                row.tenant_slug or "(whole database)",
                f"{row.started_at:%Y-%m-%d %H:%M} UTC",
                row.status if not row.error else f"{row.status}: {row.error}",
                f"{row.size_bytes:,}" if row.size_bytes is not None else "",
                row.destination,
                test,
            )
        console.print(table if rows else "no backups yet: ispb backup create [--tenant SLUG]")

    run(main)


@backup.command()
@click.option("--tenant", "slug", default=None, help="Only this operator's data (default: the whole database).")
def create(slug: str | None) -> None:
    """Take a backup now, to the configured destination."""
    config = settings()

    async def main() -> None:
        async with database(config) as db:
            tenant = await get_tenant(db, slug) if slug else None
            destination = await current_destination(db, data_dir=config.data_dir, secret_key=config.secret_key or "")
            try:
                taken = await take_backup(
                    db, destination, secret_key=config.secret_key or "", tenant=tenant, trigger="manual",
                    period=datetime.now(UTC).date(),
                )  # fmt: skip
            except _failures() as error:
                raise Failed(f"backup failed: {error}") from None
        assert taken is not None  # manual backups are never deduplicated
        console.print(
            f"backed up {slug or 'the whole database'}: {taken.object_key} ({taken.size_bytes:,} bytes,"
            f" {taken.tables} tables, {taken.rows:,} rows) to {destination.name}"
        )

    run(main)


async def _locate(db: Database, file: str, config_dir: Path, secret_key: str) -> tuple[Destination, str]:
    """A backup named by ``ispb backup list`` (in its destination), or a file on this disk (a download)."""
    path = Path(file)
    if await asyncio.to_thread(path.is_file):
        return LocalDestination(path.parent.resolve()), path.name
    row = await find_by_file(db, file)
    if row is None:
        raise Failed(f"no backup file {file!r} here or in `ispb backup list`")
    return await destination_named(db, row.destination, data_dir=config_dir, secret_key=secret_key), row.object_key


@backup.command()
@click.argument("file")
@click.option("--tenant", "slug", default=None, help="Restore only this operator (from its own or a full backup).")
@click.option("--as", "as_slug", default=None, metavar="NEW_SLUG", help="Restore the operator as a new one.")
@click.option(
    "--owner", default="", metavar="EMAIL", help="With --as: create the new operator's operator admin (its way in)."
)
@click.option("--owner-name", default="", help="The owner's name (default: the part of the e-mail before @).")
@click.option("--password-stdin", is_flag=True, help="Read the owner's password from standard input.")
@click.option("--yes", is_flag=True, help="Confirm: replace the current data with the backup's.")
def restore(
    file: str, slug: str | None, as_slug: str | None, owner: str, owner_name: str, password_stdin: bool, yes: bool
) -> None:
    """Restore FILE: one operator over its current data (--tenant), as a new operator (--as NEW_SLUG, other data
    untouched), or the whole database (a full backup without --tenant; stop web and workers first).

    Staff accounts are not part of an operator's backup, so an operator restored as a new one has none: give it
    its operator admin with --owner EMAIL (the password is prompted twice, or read from standard input), as
    ``ispb tenants create --owner`` does, or add one later from the admin console."""
    if as_slug is None and not yes:
        raise Failed("a restore replaces the current data with the backup's: add --yes (or restore --as NEW_SLUG)")
    if owner and as_slug is None:
        raise Failed("--owner creates the operator admin of a new operator: use it with --as NEW_SLUG")
    owner_name = owner_name or local_part(owner)
    password = owner_password(owner, owner_name, password_stdin)  # before anything is restored
    config = settings()
    secret_key = config.secret_key or ""

    async def main() -> str:
        async with database(config) as db:
            if owner and await email_in_use(db, owner):
                raise Failed(f"a user with the e-mail {owner.strip()} already exists; nothing was restored")
            destination, key = await _locate(db, file, config.data_dir, secret_key)
            try:
                if slug is None and as_slug is None:
                    header = await restore_database(db, destination, key, (secret_key, *config.old_secret_keys))
                    if header["kind"] != "full":
                        raise Failed("not a full backup")
                    return "restored the whole database"
                tenant = await restore_tenant(
                    db, destination, key, secret_key=secret_key, old_keys=config.old_secret_keys, slug=slug,
                    as_slug=as_slug,
                )  # fmt: skip
            except _failures() as error:
                raise Failed(f"restore failed: {error}") from None
            done = f"restored operator {tenant.slug} (schema {tenant.schema})"
            if owner:
                try:
                    await add_operator_owner(db, tenant, owner, owner_name, password)
                except AccountRefused as error:
                    raise Failed(f"{done}, but its operator admin was not created: {error}; add one from the"
                                 " admin console") from None  # fmt: skip
                done += f"\ncreated operator admin {owner.strip()}: sign in at /login"
        return done

    console.print(run(main))
