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
