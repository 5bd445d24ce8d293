"""The embedded PostgreSQL used when no ISPB_DATABASE_URL is set (quick start, demos, single-box installs).

It is a real PostgreSQL server from the ``pgserver`` package, with its data under ``<data_dir>/postgres``
and a Unix socket only (no TCP port to collide with or expose). Running as root, pgserver runs the server as
an unprivileged ``pgserver`` system user, as PostgreSQL requires, and opens the path to the data
directory for that user (g+rx, o+rx on its parents).
"""

import logging
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
