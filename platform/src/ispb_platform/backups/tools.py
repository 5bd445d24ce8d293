"""Finding ``pg_dump`` and ``pg_restore`` of the server's own major version.

pg_dump refuses a newer server ("server version mismatch") and an older pg_restore cannot read a newer
archive, so a mismatch must stop a backup before it starts, with a message that says what to install or set,
never leave a half-written file. Candidates, in order: ``ISPB_PG_BIN_DIR`` (an external server's client tools;
when set, it is the only candidate), the embedded PostgreSQL's own binaries (the ``pgserver`` package ships
them beside its server), Debian's ``/usr/lib/postgresql/<major>/bin``, then ``PATH``.
"""

import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class BackupToolMismatch(RuntimeError):
    """No pg_dump/pg_restore of the server's major version: the message says which were found and what to do."""


@dataclass(frozen=True)
class PgTools:
    pg_dump: Path
    pg_restore: Path
    major: int


def tool_major(binary: Path) -> int | None:
    """The major version a client tool reports, or None when it does not run."""
    try:
        out = subprocess.run(  # noqa: S603 (a path we chose, no shell)
            [str(binary), "--version"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(out)
    return int(found.group(1)) if found else None


def _embedded_bin_dir() -> Path | None:
    # located, not imported: importing pgserver probes runtime directories (and warns) for nothing here
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def candidate_dirs(server_major: int, configured: str | None) -> list[Path]:
    if configured:
        return [Path(configured)]
    dirs = [d for d in (_embedded_bin_dir(), Path(f"/usr/lib/postgresql/{server_major}/bin")) if d is not None]
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).resolve().parent)
    return dirs


def find_tools(server_major: int, configured: str | None = None) -> PgTools:
    """pg_dump and pg_restore of ``server_major``; `BackupToolMismatch` when there are none."""
    if configured is None:
        configured = os.environ.get("ISPB_PG_BIN_DIR", "").strip() or None
    seen: list[str] = []
    for directory in candidate_dirs(server_major, configured):
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        major = tool_major(dump)
        seen.append(f"{dump}: {'does not run' if major is None else f'version {major}'}")
        if major == server_major and tool_major(restore) == server_major:
            return PgTools(dump, restore, major)
    where = "ISPB_PG_BIN_DIR" if configured else "the embedded server, /usr/lib/postgresql and PATH"
    raise BackupToolMismatch(
        f"no pg_dump/pg_restore of PostgreSQL {server_major} (the server's version) in {where}"
        f" ({'; '.join(seen) or 'none found'}): install the client tools of version {server_major}"
        f" (Debian: postgresql-client-{server_major}) or set ISPB_PG_BIN_DIR to their directory"
    )
