"""Shared fixtures: a real PostgreSQL database and a real Redis for the whole test session.

PostgreSQL: ``ISPB_TEST_DATABASE_URL`` if set, else the server on 127.0.0.1:5432 if one answers, else an
embedded PostgreSQL (pgserver) in a temporary directory, so the tests run on a machine with nothing
installed. Each session gets a fresh database, dropped at the end.

Redis: ``ISPB_TEST_REDIS_URL`` if set, else 127.0.0.1:6379 if it answers, else a ``redis-server`` started on
a free loopback port for the session. Tests use their own queue names, so a shared Redis is not disturbed.

``ispb`` processes started by tests get this session's data directory, queue name, database and ports, never
a running demo's (``tests/processes.py``).
"""

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ispb_notify import OutboundPolicy
from ispb_platform.embedded_postgres import start_embedded_postgres
from ispb_tenants import Database, TenantRef, create_tenant, drop_tenant, migrate_platform
from pages import csrf_from
from peers.certificates import self_signed_certificate
from processes import isolate_this_process

isolate_this_process()  # a demo's ISPB_ settings in this shell must not reach the tests (tests/processes.py)

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = ("127.0.0.1", 6379)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_url() -> str:
    """``ISPB_TEST_DATABASE_URL`` (``embedded`` forces the embedded server), else local, else embedded."""
    url = os.environ.get("ISPB_TEST_DATABASE_URL", "")
    if url and url != "embedded":
        return url
    if not url and _answers("127.0.0.1", 5432):
        return LOCAL_POSTGRES
    return start_embedded_postgres(Path(tempfile.mkdtemp(prefix="ispb-test-pg-")))


def _with_database(server_url: str, name: str) -> str:
    base, _, query = server_url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


@pytest.fixture(name="database_url", scope="session")
async def fx_database_url() -> AsyncIterator[str]:
    server = _server_url()
    name = f"ispb_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield _with_database(server, name)
    admin = await asyncpg.connect(server)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(name="db", scope="session")
async def fx_db(database_url: str) -> AsyncIterator[Database]:
    db = await Database.connect(database_url, min_size=2, max_size=20)
    await migrate_platform(db)
    yield db
    await db.close()


TenantFactory = Callable[..., Awaitable[TenantRef]]


@pytest.fixture(name="make_tenant")
async def fx_make_tenant(db: Database) -> AsyncIterator[TenantFactory]:
    """Create tenants with unique slugs for one test; drop them (schema and row) afterwards."""
    created: list[str] = []

    async def make(prefix: str = "t", **options: str) -> TenantRef:
        slug = f"{prefix}-{secrets.token_hex(4)}"
        tenant = await create_tenant(db, slug, f"Test ISP {slug}", **options)
        created.append(slug)
        return tenant

    yield make
    for slug in created:
        with contextlib.suppress(LookupError):  # the test dropped it itself
            await drop_tenant(db, slug)


@pytest.fixture(name="redis_url", scope="session")
def fx_redis_url() -> Iterator[str]:
    if url := os.environ.get("ISPB_TEST_REDIS_URL"):
        yield url
        return
    if _answers(*LOCAL_REDIS):
        yield "redis://127.0.0.1:6379/0"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "no Redis answers on 127.0.0.1:6379 and redis-server is not installed (apt-get install "
            "redis-server, or set ISPB_TEST_REDIS_URL)"
        )
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="ispb-test-redis-")
    process = subprocess.Popen(  # a real Redis for this session, on loopback only
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _answers("127.0.0.1", port):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(name="certificate")
def fx_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a router's api-ssl service often has; (key, cert)."""
    try:
        return self_signed_certificate(tmp_path)
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(name="loopback_port")
def fx_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for servers a test starts."""
    return free_port()


# --- the web app, in-process on the test's event loop ------------------------------------------------------

WEB_PASSWORD = "correct horse battery staple"


@pytest.fixture(name="web_app", scope="session")
async def fx_web_app(db: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    from ispb_platform.app import create_app
    from ispb_platform.billing.invoices.service import close_renderer
    from ispb_platform.demo import sms_sink
    from ispb_platform.jobs.queue import make_queue
    from ispb_platform.runtime import Runtime
    from ispb_platform.settings import parse_settings

    data_dir = tmp_path_factory.mktemp("ispb-data")  # files the app keeps (traffic graphs), never the checkout's var/
    settings = parse_settings(
        {"ISPB_DATABASE_URL": database_url, "ISPB_SECRET_KEY": "t" * 40, "ISPB_DATA_DIR": str(data_dir)}
    )
    runtime = Runtime(settings, database_url, db, make_queue(None, database_url))
    # with the demo's SMS sink, which only ``ispb demo`` serves: the route matrix checks who may read it
    app = create_app(settings, runtime=runtime, extra_routes=sms_sink.ROUTES)
    # the queue open for the whole session, as the app's lifespan opens it in production (the ASGI transport
    # sends no lifespan events): "Run now", a payment's SMS and a router command enqueue there; no worker takes
    # them. Opened once: SAQ's PostgreSQL queue cannot be reopened after a disconnect.
    await runtime.queue.connect()
    yield app
    await runtime.queue.disconnect()
    await close_renderer(app)  # the invoice PDF worker, if a test started it


@pytest.fixture(name="allow_outbound")
def fx_allow_outbound(web_app: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``allow_outbound("127.0.0.1:4711")``: the web app may send there (a peer on loopback) for this test, as
    ``ISPB_OUTBOUND_ALLOW`` would allow it; by default it sends to public addresses only."""
    runtime = web_app.state.runtime

    def allow(entries: str) -> None:
        outbound = OutboundPolicy((*runtime.settings.outbound.allow, *OutboundPolicy.parse(entries).allow))
        monkeypatch.setattr(runtime, "settings", replace(runtime.settings, outbound=outbound))

    return allow


@pytest.fixture(name="make_client")
async def fx_make_client(web_app: Any) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """New browser-like clients (own cookie jar) speaking to the app over ASGI, as https; ``ip`` is the address
    the app sees (sign-in throttling counts per address)."""
    clients: list[httpx.AsyncClient] = []

    def make(ip: str = "203.0.113.7") -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web_app, client=(ip, 4711)), base_url="https://isp.test"
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture(name="make_staff")
async def fx_make_staff(db: Database) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Create a platform or operator user; returns the e-mail (password: WEB_PASSWORD)."""
    from ispb_platform.auth.passwords import hash_password

    password_hash = hash_password(WEB_PASSWORD)
    emails: list[str] = []

    async def make(role: str, tenant: TenantRef | None = None) -> str:
        email = f"{role.replace('_', '.')}.{secrets.token_hex(3)}@isp.test"
        await db.pool.execute(
            "INSERT INTO platform.platform_user (email, name, password_hash, role, tenant_id) VALUES ($1,$2,$3,$4,$5)",
            email,
            f"Test {role}",
            password_hash,
            role,
            tenant.id if tenant else None,
        )
        emails.append(email)
        return email

    yield make
    await db.pool.execute("DELETE FROM platform.platform_user WHERE email = ANY($1::text[])", emails)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = WEB_PASSWORD) -> str:
    """Sign in through the real form; returns the CSRF token for later posts."""
    token = csrf_from((await client.get("/login")).text)
    answer = await client.post("/login", data={"email": email, "password": password, "_csrf_token": token})
    assert answer.status_code == 303, answer.text[:500]
    return token  # bound to the CSRF cookie, which signing in does not change


@pytest.fixture(name="sign_in")
def fx_sign_in() -> Callable[..., Awaitable[str]]:
    """``await sign_in(client, email)``: sign in through the real form; returns the CSRF token."""
    return sign_in


@pytest.fixture(name="csrf_of")
def fx_csrf_of() -> Callable[[str], str]:
    return csrf_from
