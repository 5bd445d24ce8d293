"""Running pg_dump and pg_restore as streams: pg_dump's output is read in pieces, pg_restore's input fed in
pieces, so neither a dump nor a restore is ever held in memory.

The connection URL's password (if any) goes to the child in ``PGPASSWORD``, never on its command line where
``ps`` would show it. A tool that ends with an error raises `BackupFailed` with its own last lines.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

_PIECE = 1 << 20


class BackupFailed(RuntimeError):
    """A backup or restore did not complete; the message is for the operator."""


def split_password(dsn: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that carries it."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn, {}
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    bare = urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}"))
    return bare, {"PGPASSWORD": unquote(parts.password)}


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


async def dump_stream(pg_dump: Path, dsn: str, arguments: Sequence[str]) -> AsyncIterator[bytes]:
    """pg_dump's output (custom format), piece by piece; `BackupFailed` if it ends badly."""
    url, extra = split_password(dsn)
    process = await asyncio.create_subprocess_exec(
        str(pg_dump),
        *arguments,
        f"--dbname={url}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(extra),
    )
    assert process.stdout is not None
    assert process.stderr is not None
    errors = asyncio.create_task(process.stderr.read())
    try:
        while piece := await process.stdout.read(_PIECE):
            yield piece
        status = await process.wait()
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    message = (await errors).decode(errors="replace").strip()
    if status != 0:
        raise BackupFailed(f"pg_dump failed (exit {status}): {_last_lines(message)}")


async def restore_stream(pg_restore: Path, dsn: str, arguments: Sequence[str], pieces: AsyncIterator[bytes]) -> None:
    """Feed ``pieces`` (a custom-format archive) to pg_restore into ``dsn``."""
    url, extra = split_password(dsn)
    process = await asyncio.create_subprocess_exec(
        str(pg_restore),
        *arguments,
        f"--dbname={url}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=_env(extra),
    )
    assert process.stdin is not None
    assert process.stderr is not None
    errors = asyncio.create_task(process.stderr.read())
    try:
        async for piece in pieces:
            process.stdin.write(piece)
            await process.stdin.drain()
        process.stdin.close()
        status = await process.wait()
    except (BrokenPipeError, ConnectionResetError):
        status = await process.wait()
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    message = (await errors).decode(errors="replace").strip()
    if status != 0:
        raise BackupFailed(f"pg_restore failed (exit {status}): {_last_lines(message)}")


def _last_lines(text: str, count: int = 5) -> str:
    """The tool's error lines (the statement it quotes after them is noise to an operator)."""
    lines = text.splitlines()
    errors = [
        line.strip() for line in lines if "error:" in line.lower() or line.startswith(("pg_dump:", "pg_restore:"))
    ]
    return " / ".join((errors or lines)[-count:]) or "no message"


async def replace_database(pg_restore: Path, psql: Path, dsn: str, prelude: str, pieces: AsyncIterator[bytes]) -> None:
    """Run ``prelude`` (SQL that drops what the archive brings back) and the whole archive as one transaction:
    pg_restore writes the archive as SQL, psql runs it after the prelude with ``--single-transaction`` and stops
    at the first error, which rolls everything back. (``pg_restore --clean`` cannot drop partitioned tables'
    inherited constraints, so it fails on radacct's partitions.)"""
    url, extra = split_password(dsn)
    restore = await asyncio.create_subprocess_exec(
        str(pg_restore), "--no-owner", "--no-privileges", "--file=-",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env({}),
    )  # fmt: skip
    apply = await asyncio.create_subprocess_exec(
        str(psql), "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", f"--dbname={url}",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env=_env(extra),
    )  # fmt: skip
    assert restore.stdin is not None and restore.stdout is not None and restore.stderr is not None  # noqa: PT018
    assert apply.stdin is not None and apply.stderr is not None  # noqa: PT018
    restore_errors = asyncio.create_task(restore.stderr.read())
    apply_errors = asyncio.create_task(apply.stderr.read())

    async def feed() -> None:
        assert restore.stdin is not None
        try:
            async for piece in pieces:
                restore.stdin.write(piece)
                await restore.stdin.drain()
        finally:
            restore.stdin.close()

    async def pump() -> None:
        assert restore.stdout is not None and apply.stdin is not None  # noqa: PT018
        apply.stdin.write(prelude.encode())
        while piece := await restore.stdout.read(_PIECE):
            apply.stdin.write(piece)
            await apply.stdin.drain()
        apply.stdin.close()

    try:
        await asyncio.gather(feed(), pump())
        restored, applied = await restore.wait(), await apply.wait()
    except (BrokenPipeError, ConnectionResetError):
        restored, applied = await restore.wait(), await apply.wait()
    finally:
        for process in (restore, apply):
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
    if restored != 0:
        raise BackupFailed(f"pg_restore failed (exit {restored}): {_last_lines((await restore_errors).decode())}")
    if applied != 0:
        raise BackupFailed(
            f"the restore failed and nothing was changed (exit {applied}): {_last_lines((await apply_errors).decode())}"
        )
