"""``ispb tenants create|list|migrate|drop``."""

import click
from rich.progress import Progress
from rich.table import Table

from ispb_platform.admin.forms import OperatorDraft
from ispb_platform.admin.service import provision_operator_with_owner
from ispb_platform.cli.common import Failed, console, database, local_part, owner_password, run, settings
from ispb_tenants import (
    MigrationResult,
    create_tenant,
    drop_tenant,
    get_tenant,
    list_tenants,
    migrate_platform,
    migrate_tenant,
    validate_slug,
)
from ispb_tenants.migrations import Scope, load_migrations


@click.group()
def tenants() -> None:
    """Operators (tenants) and their schemas."""


@tenants.command()
@click.argument("slug")
@click.option("--name", required=True, help="The operator's display name.")
@click.option("--timezone", default="Asia/Dhaka", show_default=True)
@click.option("--currency", default="BDT", show_default=True)
@click.option("--owner", default="", metavar="EMAIL", help="Also create the operator's first operator admin.")
@click.option("--owner-name", default="", help="The owner's name (default: the part of the e-mail before @).")
@click.option("--password-stdin", is_flag=True, help="Read the owner's password from standard input.")
def create(
    slug: str, name: str, timezone: str, currency: str, owner: str, owner_name: str, password_stdin: bool
) -> None:
    """Create an operator: its row, its schema and every migration, in one transaction; with ``--owner``,
    also its first operator admin (the password is prompted twice, or read from standard input)."""
    _valid(slug)
    password = owner_password(owner, owner_name, password_stdin)
    config = settings()

    async def main() -> None:
        async with database(config) as db:
            if owner:
                draft = OperatorDraft(slug, name, timezone, currency)
                tenant = await provision_operator_with_owner(
                    db, draft, owner, owner_name or local_part(owner), password
                )
            else:
                tenant = await create_tenant(db, slug, name, timezone=timezone, currency=currency)
        console.print(f"created tenant [bold]{tenant.slug}[/] ({tenant.name}) in schema {tenant.schema}")
        if owner:
            console.print(f"created operator admin [bold]{owner.strip()}[/]: sign in at /login")

    run(main)


def _valid(slug: str) -> bool:
    """Validate before touching settings or the database, so a bad slug fails fast and creates nothing."""
    try:
        validate_slug(slug)
    except ValueError as error:
        raise Failed(str(error)) from None
    return True


@tenants.command(name="list")
def list_() -> None:
    """List operators with their status and schema version."""
    config = settings()
    latest = len(load_migrations(Scope.TENANT))

    async def main() -> None:
        async with database(config) as db:
            infos = await list_tenants(db)
        table = Table("slug", "name", "status", "schema", "version", "timezone", "currency")
        for info in infos:
            version = f"{info.schema_version}/{latest}" + ("" if info.schema_version == latest else " (behind)")
            table.add_row(
                info.ref.slug,
                info.ref.name,
                info.status,
                info.ref.schema,
                version,
                info.ref.timezone,
                info.ref.currency,
            )
        console.print(table if infos else "no tenants yet: ispb tenants create SLUG --name NAME")

    run(main)


@tenants.command()
def migrate() -> None:
    """Bring the platform schema and every tenant schema to the latest version (idempotent)."""
    config = settings()

    async def main() -> list[MigrationResult]:
        async with database(config) as db:
            results = [await migrate_platform(db)]
            infos = await list_tenants(db)
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("migrating tenants", total=len(infos))
                for info in infos:
                    results.append(await migrate_tenant(db, info.ref))
                    progress.advance(task)
        return results

    results = run(main)
    for result in results:
        name = result.slug or result.schema
        if not result.ok:
            console.print(f"[red]FAILED[/] {name}: {result.error}")
        elif result.applied:
            console.print(f"[green]migrated[/] {name}: applied {', '.join(f'{v:04d}' for v in result.applied)}")
        else:
            console.print(f"up to date {name}")
    failed = [r for r in results if not r.ok]
    console.print(f"{len(results) - 1} tenant(s) checked, {len(failed)} failed")
    if failed:
        raise SystemExit(1)


@tenants.command()
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Confirm: delete the tenant and ALL its data.")
def drop(slug: str, yes: bool) -> None:
    """Delete an operator, its schema and all its data."""
    _valid(slug)
    if not yes:
        raise Failed(f"refusing to drop tenant {slug!r} and all its data without --yes")
    config = settings()

    async def main() -> None:
        async with database(config) as db:
            tenant = await get_tenant(db, slug)
            await drop_tenant(db, slug)
        console.print(f"dropped tenant {tenant.slug} and schema {tenant.schema}")

    run(main)
