"""The embedded PostgreSQL used when no ISPB_DATABASE_URL is set (quick start, demos, single-box installs).

It is a real PostgreSQL server from the ``pgserver`` package, with its data under ``<data_dir>/postgres``
and a Unix socket only (no TCP port to collide with or expose). Running as root, pgserver runs the server as
an unprivileged ``pgserver`` system user, as PostgreSQL requires, and opens the path to the data
directory for that user (g+rx, o+rx on its parents).
"""

import json
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "ispb"

log = logging.getLogger(__name__)


class EmbeddedPostgresError(RuntimeError):
    pass


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server and return a URL for the ``ispb`` database on it.

    The server stops when the last process that started it exits, so ``ispb web`` and ``ispb worker`` run
    side by side on one embedded database.
    """
    pgdata = data_dir / "postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers) and falls back to /tmp
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            from pgserver import get_server  # type: ignore[attr-defined]  # only the embedded mode needs it
            from pgserver.postgres_server import PostgresServer

            with PostgresServer._lock:  # the lock pgserver takes around its list of users
                _forget_dead_users(pgdata)
            server = get_server(pgdata, cleanup_mode="stop")
    except Exception as error:
        log_path = pgdata / "log"
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL in {pgdata} did not start ({error}); see {log_path}, or set "
            "ISPB_DATABASE_URL to use another PostgreSQL"
        ) from error
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 (constant)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        log.info("created database %s in the embedded PostgreSQL at %s", DATABASE_NAME, pgdata)
    socket_dir = _socket_dir(server.get_uri())
    return f"postgresql://postgres@/{DATABASE_NAME}?host={quote(socket_dir, safe='/')}"


def _socket_dir(uri: str) -> str:
    marker = "host="
    if marker not in uri:
        raise EmbeddedPostgresError(f"unexpected embedded PostgreSQL address {uri!r}")
    return uri.split(marker, 1)[1].split("&", 1)[0]


def _forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without leaving (SIGKILL, a crash) from pgserver's list of the server's users,
    so the last live one stops the server again. pgserver never checks that the listed processes live."""
    listed = pgdata / ".handle_pids.json"
    try:
        pids = [int(pid) for pid in json.loads(listed.read_text())]
    except (OSError, ValueError, TypeError):
        return
    alive = [pid for pid in pids if _alive(pid)]
    if alive != pids:
        log.info("the embedded PostgreSQL's users %s are gone", sorted(set(pids) - set(alive)))
        listed.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True
