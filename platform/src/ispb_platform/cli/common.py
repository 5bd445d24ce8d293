"""What every command shares: settings, opening the database, turning failures into one line."""

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import asyncpg
import click
from rich.console import Console

from ispb_platform.admin.service import checked_account
from ispb_platform.embedded_postgres import EmbeddedPostgresError
from ispb_platform.logs import DailyLogFile, apply_log_level
from ispb_platform.runtime import Runtime, open_database, open_runtime
from ispb_platform.settings import Settings, SettingsError, load_settings
from ispb_tenants import Database, TenancyError

T = TypeVar("T")
# Wide when piped (scripts, CI logs): rich would otherwise squeeze tables into 80 columns and split values.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 240)


class Failed(click.ClickException):
    """A failure the user can act on: printed as ``ispb: <message>``, exit status 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"ispb: {self.message}", err=True)


def read_new_password(from_stdin: bool) -> str:
    """A new account's password: typed twice at a terminal (not echoed), or the first line of standard input
    with ``--password-stdin`` or when input is piped. Never a command-line argument, which ``ps`` and shell
    history would show."""
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise Failed("no password on standard input: pipe it in as the first line")
        return password
    typed: str = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    return typed


def local_part(email: str) -> str:
    """An owner's default name: the part of the e-mail before @."""
    return email.strip().split("@")[0]


def owner_password(owner: str, owner_name: str, from_stdin: bool) -> str:
    """A new operator owner's password (``--owner``), asked only after the owner's e-mail and name pass the
    console's rules; empty without an owner."""
    if not owner:
        return ""
    try:
        checked_account(owner, owner_name or local_part(owner), "x" * 64)
    except ValueError as error:
        raise Failed(str(error)) from None
    return read_new_password(from_stdin)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise Failed(str(error)) from None


def configure_logging(level: str, log_file: tuple[Path, str] | None = None) -> None:
    """The root logger at ``level``; SAQ's per-job lines only at debug (``ispb_platform.logs``). With
    ``log_file`` (a directory and the command's name, ``ISPB_LOG_TO_FILES``), also to a file per day there."""
    logging.basicConfig(level=level.upper(), format=_FORMAT)
    if log_file is not None:
        attach_log_file(log_file)
    apply_log_level(level)


def attach_log_file(log_file: tuple[Path, str]) -> None:
    """Every log line of this process also to the day's file (see `DailyLogFile`)."""
    handler = DailyLogFile(*log_file)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logging.getLogger().addHandler(handler)


_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_file(config: Settings, command: str) -> tuple[Path, str] | None:
    """Where ``command`` logs besides the console: ``ISPB_DATA_DIR/logs`` when ``ISPB_LOG_TO_FILES`` is on."""
    return (config.data_dir / "logs", command) if config.log_to_files else None


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body, turning expected failures into `Failed`."""
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except (SettingsError, TenancyError, EmbeddedPostgresError, ValueError) as error:
        raise Failed(str(error)) from None
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise Failed(f"database or queue unreachable or failing: {type(error).__name__}: {error}") from None


@asynccontextmanager
async def database(config: Settings) -> AsyncIterator[Database]:
    _, db = await open_database(config)
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def runtime(config: Settings) -> AsyncIterator[Runtime]:
    active = await open_runtime(config)
    try:
        yield active
    finally:
        await active.close()
