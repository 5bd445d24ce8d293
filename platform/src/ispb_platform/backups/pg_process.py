"""Running pg_dump, pg_restore and psql as streams: pg_dump's output is read in pieces, pg_restore's input fed in
pieces, so neither a dump nor a restore is ever held in memory.

Every tool goes through one runner, `_running`: the connection URL's password (if any) goes to the child in
``PGPASSWORD``, never on its command line where ``ps`` would show it; its error output is collected while it
runs; a child still running when the caller stops (an error, a cancelled job) is killed and reaped, never left
behind. A tool that ends with an error raises `BackupFailed` with its own last lines.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

_PIECE = 1 << 20
_PIPE = asyncio.subprocess.PIPE


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


@dataclass
class _Tool:
    """A running tool: its process (``stdin``/``stdout`` as asked) and its collected error output."""

    name: str
    process: asyncio.subprocess.Process
    errors: "asyncio.Task[bytes]"

    async def finished(self) -> int:
        """Wait for the tool to end; its exit status."""
        return await self.process.wait()

    async def check(self, status: int, failure: str | None = None) -> None:
        """`BackupFailed` naming the tool (or ``failure``) and its last error lines if ``status`` is not 0."""
        if status != 0:
            message = _last_lines((await self.errors).decode(errors="replace").strip())
            raise BackupFailed(f"{failure or self.name + ' failed'} (exit {status}): {message}")


@contextlib.asynccontextmanager
async def _running(
    program: Path, arguments: Sequence[str], *, dsn: str | None = None, stdin: bool = False, stdout: bool = False
) -> AsyncIterator[_Tool]:
    """Start ``program`` with ``arguments`` (and ``--dbname`` for ``dsn``, its password in the environment),
    with pipes for ``stdin``/``stdout`` when asked; killed and reaped when the block ends with it still running."""
    extra: dict[str, str] = {}
    if dsn is not None:
        url, extra = split_password(dsn)
        arguments = [*arguments, f"--dbname={url}"]
    process = await asyncio.create_subprocess_exec(
        str(program), *arguments,
        stdin=_PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=_PIPE if stdout else asyncio.subprocess.DEVNULL,
        stderr=_PIPE,
        env={**os.environ, **extra},
    )  # fmt: skip
    assert process.stderr is not None
    tool = _Tool(program.name, process, asyncio.create_task(process.stderr.read()))
    try:
        yield tool
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if not tool.errors.done():
            await tool.errors


async def _feed(tool: _Tool, pieces: AsyncIterator[bytes], first: bytes = b"") -> None:
    """Write ``first`` then ``pieces`` to the tool's input, and close it."""
    stdin = tool.process.stdin
    assert stdin is not None
    try:
        if first:
            stdin.write(first)
        async for piece in pieces:
            stdin.write(piece)
            await stdin.drain()
    finally:
        stdin.close()


async def _pieces(tool: _Tool) -> AsyncIterator[bytes]:
    stdout = tool.process.stdout
    assert stdout is not None
    while piece := await stdout.read(_PIECE):
        yield piece


async def dump_stream(pg_dump: Path, dsn: str, arguments: Sequence[str]) -> AsyncIterator[bytes]:
    """pg_dump's output (custom format), piece by piece; `BackupFailed` if it ends badly."""
    async with _running(pg_dump, arguments, dsn=dsn, stdout=True) as tool:
        async for piece in _pieces(tool):
            yield piece
        await tool.check(await tool.finished())


async def restore_stream(pg_restore: Path, dsn: str, arguments: Sequence[str], pieces: AsyncIterator[bytes]) -> None:
    """Feed ``pieces`` (a custom-format archive) to pg_restore into ``dsn``."""
    async with _running(pg_restore, arguments, dsn=dsn, stdin=True) as tool:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it stopped reading: its status says why
            await _feed(tool, pieces)
        await tool.check(await tool.finished())


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
    inherited constraints, so it fails on radacct's partitions.)

    psql's input is closed (which commits) only after pg_restore ended well: a pg_restore that fails half-way,
    or a file that stops opening, kills psql instead, so its transaction rolls back and nothing is changed."""
    apply_arguments = ["--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1"]
    async with (
        _running(pg_restore, ["--no-owner", "--no-privileges", "--file=-"], stdin=True, stdout=True) as restore,
        _running(psql, apply_arguments, dsn=dsn, stdin=True) as apply,
    ):

        async def pump() -> None:
            stdin = apply.process.stdin
            assert stdin is not None
            stdin.write(prelude.encode())
            async for piece in _pieces(restore):
                stdin.write(piece)
                await stdin.drain()
            await restore.check(await restore.finished())
            stdin.close()

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_feed(restore, pieces))
                group.create_task(pump())
        except BaseExceptionGroup as failures:
            # a broken pipe: the tool at its other end stopped, and its status says why; anything else is raised
            others = failures.subgroup(lambda e: not isinstance(e, BrokenPipeError | ConnectionResetError))
            if others is not None:
                raise _first(others) from None
        await apply.check(await apply.finished(), "the restore failed and nothing was changed")


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
