"""A PostgreSQL of a test's own (the embedded server's binaries in a temporary directory), stopped and started
with ``pg_ctl`` as a restart or a failover does: for the fault tests, never the shared server on :5432.

Use the fixtures ``own_postgres`` (the server, one per test module) and ``own_db`` (a pool on it, closed with a
bound after the test: closing must not hang on connections the server dropped)."""

import asyncio
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ispb_platform.embedded_postgres import start_embedded_postgres
from ispb_tenants import Database, migrate_platform


class OwnPostgres:
    """The embedded PostgreSQL (pgserver's binaries) in a directory of this test, stopped and started with pg_ctl."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ispb-test-pg-restart-"))
        self.url = start_embedded_postgres(self.root)
        self.pgdata = self.root / "postgres"
        from pgserver.postgres_server import POSTGRES_BIN_PATH

        self.pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
        self.user = self.pgdata.owner()  # pgserver runs the server as its own user when started as root

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [self.pg_ctl, "-D", str(self.pgdata), "-w", *args],
            check=True,
            capture_output=True,
            timeout=60,
            user=self.user,
        )

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        options = f'-h "" -k {self.pgdata}'  # as pgserver starts it: a Unix socket only
        self._pg_ctl("-l", str(self.pgdata / "log"), "-o", options, "start")


@pytest.fixture(name="own_postgres", scope="module")
def fx_own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    yield server
    subprocess.run(
        [server.pg_ctl, "-D", str(server.pgdata), "-m", "fast", "stop"], capture_output=True, user=server.user
    )


@pytest.fixture(name="own_db")
async def fx_own_db(own_postgres: OwnPostgres) -> AsyncIterator[Database]:
    db = await Database.connect(own_postgres.url, min_size=2, max_size=6)
    await migrate_platform(db)
    yield db
    await asyncio.wait_for(db.close(), 20)  # after a restart: must not hang on connections the server dropped
