"""``ispb secrets reseal|rotate``: re-seal the stored secrets (router and PPPoE passwords, RADIUS and gateway
secrets, message texts) of every tenant. The work is ``ispb_platform.secrets.service``; its docstring has the
rotation procedure."""

import os

import click

from ispb_platform.cli.common import Failed, console, database, run, settings
from ispb_platform.secrets.service import ResealReport, reseal_all
from ispb_platform.secrets_box import key_id
from ispb_platform.settings import MIN_SECRET_KEY_LENGTH


@click.group()
def secrets() -> None:
    """Sealed secrets: re-seal after an upgrade, rotate the key."""


_ONLY = click.option("--tenant", "only", multiple=True, metavar="SLUG", help="Only this operator (repeatable).")


@secrets.command()
@_ONLY
def reseal(only: tuple[str, ...]) -> None:
    """Seal every stored secret again under ISPB_SECRET_KEY: values of the first format (before v2) and values
    under a key listed in ISPB_OLD_SECRET_KEYS. Idempotent; run it after an upgrade and after a rotation."""
    config = settings()
    if not config.secret_key:
        raise Failed("ISPB_SECRET_KEY is not set")
    current = config.secret_key

    async def main() -> ResealReport:
        async with database(config) as db:
            return await reseal_all(db, target_key=current, open_with=config.old_secret_keys, only=only)

    _print(run(main))


@secrets.command()
@click.option(
    "--new-key-env",
    required=True,
    metavar="VAR",
    help="The environment variable that holds the new key (a key is never a command-line argument).",
)
@_ONLY
def rotate(new_key_env: str, only: tuple[str, ...]) -> None:
    """Seal every stored secret under the key in $VAR, opening them with ISPB_SECRET_KEY or
    ISPB_OLD_SECRET_KEYS. Stop the web and worker processes first, then set ISPB_SECRET_KEY to the new key."""
    config = settings()
    new_key = os.environ.get(new_key_env, "").strip()
    if len(new_key) < MIN_SECRET_KEY_LENGTH:
        raise Failed(f"{new_key_env} must hold the new key, at least {MIN_SECRET_KEY_LENGTH} characters")
    if new_key == config.secret_key:
        raise Failed(f"{new_key_env} holds the current ISPB_SECRET_KEY; use `ispb secrets reseal` instead")
    open_with = tuple(k for k in (config.secret_key, *config.old_secret_keys) if k)

    async def main() -> ResealReport:
        async with database(config) as db:
            return await reseal_all(db, target_key=new_key, open_with=open_with, only=only)

    _print(run(main))
    console.print(
        f"next: set ISPB_SECRET_KEY to the value of {new_key_env} (key {key_id(new_key)}) on every process;"
        " the old key can then be removed"
    )


def _print(report: ResealReport) -> None:
    for slug, count in sorted(report.resealed.items()):
        console.print(f"{slug}: re-sealed {count} value(s)")
    for problem in report.unreadable:
        console.print(f"[red]cannot open[/] {problem.tenant} {problem.table} {problem.row}: {problem.reason}")
    total = sum(report.resealed.values())
    console.print(f"{total} value(s) re-sealed under key {report.key_id}, {len(report.unreadable)} unreadable")
    if report.unreadable:
        raise SystemExit(1)
