"""RADIUS against a real FreeRADIUS 3 and PostgreSQL: two tenants, one NAS each, the generated configuration.

Tenant alpha's NAS is 127.0.0.1, tenant beta's is 127.0.0.2 (with a secret full of characters that need
quoting); our own client binds the source address, so FreeRADIUS maps each request by where it comes from.
Beta chose to reject suspended customers; alpha keeps the default suspended profile.
"""

import asyncio
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner

from factories import make_router
from ispb_netsync.radius import (
    AcctStatusType,
    Attr,
    Code,
    CustomerRows,
    GroupRows,
    NasUnreachable,
    Packet,
    SuspendedMode,
    attr,
    customer_rows,
    send_request,
    suspended_group_rows,
)
from ispb_platform.network.radius.config import (
    STOCK_FILES,
    Listen,
    RadiusNas,
    RadiusTenant,
    generate,
    render,
    write,
)
from ispb_tenants import Database, TenantRef, create_tenant, drop_tenant
from peers.freeradius import STOCK_DIR, FreeRadius, binary, free_udp_ports, running_freeradius

pytestmark = pytest.mark.radius

ALPHA_NAS, BETA_NAS = "127.0.0.1", "127.0.0.2"
ALPHA_SECRET, BETA_SECRET = "alpha-s3cret", "be'ta\"${x}%{y}\\b"


@dataclass(frozen=True)
class World:
    alpha: TenantRef
    beta: TenantRef
    radius: FreeRadius


async def _put_customer(conn: asyncpg.Connection, schema: str, rows: CustomerRows) -> None:
    await conn.executemany(
        f"INSERT INTO {schema}.radcheck (username, attribute, op, value) VALUES ($1, $2, $3, $4)",
        [(r.name, r.attribute, r.op, r.value) for r in rows.radcheck],
    )
    await conn.executemany(
        f"INSERT INTO {schema}.radreply (username, attribute, op, value) VALUES ($1, $2, $3, $4)",
        [(r.name, r.attribute, r.op, r.value) for r in rows.radreply],
    )
    await conn.executemany(
        f"INSERT INTO {schema}.radusergroup (username, groupname, priority) VALUES ($1, $2, $3)",
        [(r.username, r.groupname, r.priority) for r in rows.radusergroup],
    )


async def _put_group(conn: asyncpg.Connection, schema: str, rows: GroupRows) -> None:
    groups = {r.name for r in rows.radgroupcheck} | {r.name for r in rows.radgroupreply}
    await conn.execute(f"DELETE FROM {schema}.radgroupreply WHERE groupname = ANY($1::text[])", list(groups))
    await conn.execute(f"DELETE FROM {schema}.radgroupcheck WHERE groupname = ANY($1::text[])", list(groups))
    for table, group_rows in (("radgroupcheck", rows.radgroupcheck), ("radgroupreply", rows.radgroupreply)):
        await conn.executemany(
            f"INSERT INTO {schema}.{table} (groupname, attribute, op, value) VALUES ($1, $2, $3, $4)",
            [(r.name, r.attribute, r.op, r.value) for r in group_rows],
        )


async def _add_router(db: Database, tenant: TenantRef, nas: str, secret: str, key: str | None = None) -> None:
    # Tests store the secret in plain text and reveal with the identity function, unless a key seals it.
    async with db.tenant(tenant) as scope:
        await make_router(
            scope,
            name="core",
            host=nas,
            username="api",
            password_sealed="x",
            mode="radius",
            nas_address=nas,
            radius_secret=secret if key else None,
            radius_secret_sealed=None if key else secret,
            secret_key=key or "",
        )


async def _seed(db: Database, alpha: TenantRef, beta: TenantRef) -> None:
    await _add_router(db, alpha, ALPHA_NAS, ALPHA_SECRET)
    await _add_router(db, beta, BETA_NAS, BETA_SECRET)
    async with db.pool.acquire() as conn:  # FreeRADIUS's rows, as ispb_netsync computes them (raw SQL)
        await _put_customer(
            conn, alpha.schema, customer_rows("rahim", "rahim-pw", rate_limit="10M/10M", suspended=False)
        )
        await _put_customer(conn, alpha.schema, customer_rows("karim", "karim-pw", rate_limit="5M/5M", suspended=True))
        await _put_customer(
            conn, alpha.schema, customer_rows("shared", "alpha-pw", rate_limit="1M/1M", suspended=False)
        )
        await _put_customer(conn, alpha.schema, customer_rows("once", "once-pw", rate_limit="2M/2M", suspended=False))
        await _put_customer(
            conn, beta.schema, customer_rows("shared", "beta-pw", rate_limit="20M/20M", suspended=False)
        )
        await _put_customer(conn, beta.schema, customer_rows("salma", "salma-pw", rate_limit="8M/8M", suspended=True))
        await _put_group(conn, beta.schema, suspended_group_rows(SuspendedMode.REJECT))


@pytest.fixture(name="world", scope="module")
async def fx_world(db: Database, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    suffix = secrets.token_hex(3)
    alpha = await create_tenant(db, f"alpha-{suffix}", "Alpha ISP")
    beta = await create_tenant(db, f"beta-{suffix}", "Beta ISP")
    try:
        await _seed(db, alpha, beta)
        auth_port, acct_port = free_udp_ports(2)
        out = tmp_path_factory.mktemp("raddb")
        async with db.pool.acquire() as conn:
            config = await generate(
                conn,
                out,
                database_url=database_url,
                reveal=lambda s, _binding: s,
                listen=Listen(ALPHA_NAS, auth_port, acct_port),
            )
        files = {name: (out / name).read_text() for name in config.files}
        with running_freeradius(files, auth_port=auth_port, acct_port=acct_port) as radius:
            yield World(alpha, beta, radius)
    finally:
        for tenant in (alpha, beta):
            await drop_tenant(db, tenant.slug)


async def _auth(world: World, nas: str, user: str, password: str, *extra: Attr) -> Packet:
    secret = ALPHA_SECRET if nas == ALPHA_NAS else BETA_SECRET
    attributes = [attr("User-Name", user), attr("NAS-IP-Address", nas), attr("NAS-Port", 1), *extra]
    radius = world.radius
    return await send_request(
        radius.address,
        radius.auth_port,
        secret,
        Code.ACCESS_REQUEST,
        attributes,
        password=password,
        source_address=nas,
        timeout=2,
        retries=1,
    )


async def _acct(world: World, nas: str, user: str, session: str, status: AcctStatusType, **counters: int) -> Packet:
    secret = ALPHA_SECRET if nas == ALPHA_NAS else BETA_SECRET
    attributes = [
        attr("User-Name", user),
        attr("NAS-IP-Address", nas),
        attr("Acct-Status-Type", status),
        attr("Acct-Session-Id", session),
        attr("Framed-IP-Address", "100.64.0.9"),
        *(attr(name.replace("_", "-").title(), value) for name, value in counters.items()),
    ]
    radius = world.radius
    return await send_request(
        radius.address,
        radius.acct_port,
        secret,
        Code.ACCOUNTING_REQUEST,
        attributes,
        source_address=nas,
        timeout=2,
        retries=1,
    )


async def test_active_customer_is_accepted_with_its_rate_limit(world: World):
    answer = await _auth(world, ALPHA_NAS, "rahim", "rahim-pw")
    assert answer.code is Code.ACCESS_ACCEPT, world.radius.log()[-2000:]
    assert answer.get("Mikrotik-Rate-Limit") == "10M/10M"
    assert answer.get("Mikrotik-Address-List") is None


async def test_wrong_password_is_rejected(world: World):
    answer = await _auth(world, ALPHA_NAS, "rahim", "guess")
    assert answer.code is Code.ACCESS_REJECT


async def test_chap_password_is_accepted(world: World):
    challenge, ident = secrets.token_bytes(16), 7
    response = hashlib.md5(bytes([ident]) + b"rahim-pw" + challenge).digest()
    radius = world.radius
    answer = await send_request(
        radius.address,
        radius.auth_port,
        ALPHA_SECRET,
        Code.ACCESS_REQUEST,
        [
            attr("User-Name", "rahim"),
            attr("CHAP-Password", bytes([ident]) + response),
            attr("CHAP-Challenge", challenge),
        ],
        source_address=ALPHA_NAS,
        timeout=2,
        retries=1,
    )
    assert answer.code is Code.ACCESS_ACCEPT
    assert answer.get("Mikrotik-Rate-Limit") == "10M/10M"


async def test_suspended_customer_gets_the_suspended_profile(world: World):
    answer = await _auth(world, ALPHA_NAS, "karim", "karim-pw")
    assert answer.code is Code.ACCESS_ACCEPT
    assert answer.get("Mikrotik-Address-List") == "ispb-suspended"
    assert answer.get("Mikrotik-Rate-Limit") == "64k/64k"


async def test_suspended_customer_is_rejected_where_the_tenant_chose_reject(world: World):
    answer = await _auth(world, BETA_NAS, "salma", "salma-pw")
    assert answer.code is Code.ACCESS_REJECT
    assert answer.get("Reply-Message") == "Account suspended"


async def test_same_username_is_resolved_by_the_nas_tenant(world: World):
    alpha = await _auth(world, ALPHA_NAS, "shared", "alpha-pw")
    beta = await _auth(world, BETA_NAS, "shared", "beta-pw")
    assert (alpha.code, alpha.get("Mikrotik-Rate-Limit")) == (Code.ACCESS_ACCEPT, "1M/1M")
    assert (beta.code, beta.get("Mikrotik-Rate-Limit")) == (Code.ACCESS_ACCEPT, "20M/20M")
    # the other tenant's password never works, and alpha's customers do not exist for beta's NAS
    assert (await _auth(world, ALPHA_NAS, "shared", "beta-pw")).code is Code.ACCESS_REJECT
    assert (await _auth(world, BETA_NAS, "rahim", "rahim-pw")).code is Code.ACCESS_REJECT


async def test_accounting_lands_in_the_nas_tenant_only(world: World, db: Database):
    assert (await _auth(world, BETA_NAS, "shared", "beta-pw")).code is Code.ACCESS_ACCEPT  # logged by post-auth
    session = f"s-{secrets.token_hex(4)}"
    for status, counters in (
        (AcctStatusType.START, {}),
        (
            AcctStatusType.INTERIM_UPDATE,
            {"acct_input_octets": 1000, "acct_output_octets": 5000, "acct_session_time": 60},
        ),
        (AcctStatusType.STOP, {"acct_input_octets": 2000, "acct_output_octets": 9000, "acct_session_time": 120}),
    ):
        answer = await _acct(world, BETA_NAS, "shared", session, status, **counters)
        assert answer.code is Code.ACCOUNTING_RESPONSE
    row = await db.pool.fetchrow(f"SELECT * FROM {world.beta.schema}.radacct WHERE acctsessionid = $1", session)
    assert row is not None
    assert (row["username"], str(row["nasipaddress"]), str(row["framedipaddress"])) == (
        "shared",
        BETA_NAS,
        "100.64.0.9",
    )
    assert (row["acctinputoctets"], row["acctoutputoctets"], row["acctsessiontime"]) == (2000, 9000, 120)
    assert row["acctstoptime"] is not None
    leaked = await db.pool.fetchval(
        f"SELECT count(*) FROM {world.alpha.schema}.radacct WHERE acctsessionid = $1", session
    )
    assert leaked == 0
    auth_log = await db.pool.fetchval(f"SELECT count(*) FROM {world.beta.schema}.radpostauth WHERE username = 'shared'")
    assert auth_log >= 1


async def test_second_session_is_rejected_while_one_is_open(world: World):
    assert (await _auth(world, ALPHA_NAS, "once", "once-pw")).code is Code.ACCESS_ACCEPT
    session = f"s-{secrets.token_hex(4)}"
    await _acct(world, ALPHA_NAS, "once", session, AcctStatusType.START)
    try:
        assert (await _auth(world, ALPHA_NAS, "once", "once-pw")).code is Code.ACCESS_REJECT
    finally:
        await _acct(world, ALPHA_NAS, "once", session, AcctStatusType.STOP, acct_session_time=5)
    assert (await _auth(world, ALPHA_NAS, "once", "once-pw")).code is Code.ACCESS_ACCEPT


async def test_unknown_nas_gets_no_answer(world: World):
    radius = world.radius
    with pytest.raises(NasUnreachable):
        await send_request(
            radius.address,
            radius.auth_port,
            ALPHA_SECRET,
            Code.ACCESS_REQUEST,
            [attr("User-Name", "rahim")],
            password="rahim-pw",
            source_address="127.0.0.3",
            timeout=0.3,
            retries=0,
        )


async def test_wrong_secret_gets_no_answer(world: World):
    radius = world.radius
    with pytest.raises(NasUnreachable):
        await send_request(
            radius.address,
            radius.auth_port,
            "not-the-secret",
            Code.ACCESS_REQUEST,
            [attr("User-Name", "rahim")],
            password="rahim-pw",
            source_address=ALPHA_NAS,
            timeout=0.3,
            retries=0,
        )


def test_a_nas_address_claimed_by_two_tenants_is_left_out():
    one = RadiusTenant(
        "one", "tenant_one", (RadiusNas(1, "edge", "10.0.0.1", "a"), RadiusNas(2, "core", "10.0.0.2", "b"))
    )
    two = RadiusTenant("two", "tenant_two", (RadiusNas(1, "main", "10.0.0.1", "c"),))
    config = render([one, two], database_url="postgresql://radius@db/ispb")
    clients = config.files["clients.conf"]
    assert "10.0.0.1" not in clients
    assert "ipaddr = 10.0.0.2" in clients
    assert {(s.tenant, s.router_name) for s in config.skipped} == {("one", "edge"), ("two", "main")}
    assert "sql sql_one {" in config.files["mods-enabled/ispb_sql"]
    assert "server tenant_two {" in config.files["sites-enabled/ispb"]


async def test_cli_writes_the_configuration(db: Database, database_url: str, tmp_path: Path):
    from ispb_platform.network.radius.cli import radius

    key = "k" * 40
    suffix = secrets.token_hex(3)
    tenant = await create_tenant(db, f"cli-{suffix}", "CLI ISP")
    try:
        await _add_router(db, tenant, "192.0.2.7", "sealed-secret", key)
        env = {"ISPB_DATABASE_URL": database_url, "ISPB_SECRET_KEY": key}
        result = await asyncio.to_thread(
            CliRunner().invoke,
            radius,
            ["config", "--out", str(tmp_path), "--port", "18120", "--acct-port", "18130"],
            env=env,
        )
        assert result.exit_code == 0, result.output
        clients = (tmp_path / "clients.conf").read_text()
        assert "ipaddr = 192.0.2.7" in clients
        assert "secret = 'sealed-secret'" in clients
        assert "port = 18130" in (tmp_path / "sites-enabled/ispb").read_text()
    finally:
        await drop_tenant(db, tenant.slug)


# --- the documented setup, and defects found by running it on stock Debian FreeRADIUS 3.2.1 ------------------


def test_the_documented_rm_line_removes_exactly_what_the_harness_removes():
    # The harness removes config.STOCK_FILES and nothing else, so the server the tests start is the one an
    # operator gets by following docs/radius.md.
    docs = (Path(__file__).parents[2] / "docs" / "radius.md").read_text(encoding="utf-8")
    [line] = [line for line in docs.splitlines() if line.startswith("cd /etc/freeradius/3.0 && rm -f ")]
    removed = line.split("rm -f ", 1)[1].split("#", 1)[0].split()
    assert tuple(removed) == STOCK_FILES


async def test_accounting_on_and_off_without_open_sessions_are_answered(world: World):
    for status in (AcctStatusType.ACCOUNTING_ON, AcctStatusType.ACCOUNTING_OFF):
        answer = await _nas_status(world, BETA_NAS, status)
        assert answer.code is Code.ACCOUNTING_RESPONSE, world.radius.log()[-2000:]


async def test_a_duplicate_stop_and_a_late_interim_are_answered_and_change_nothing(world: World, db: Database):
    session = f"s-{secrets.token_hex(4)}"
    t0 = 1_790_000_000
    steps = (
        (AcctStatusType.START, {"event_timestamp": t0}),
        (AcctStatusType.STOP, {"event_timestamp": t0 + 60, "acct_session_time": 60, "acct_input_octets": 700}),
        # the NAS retransmits the Stop later (new Acct-Delay-Time), then a delayed Interim-Update arrives
        (AcctStatusType.STOP, {"event_timestamp": t0 + 90, "acct_session_time": 90, "acct_input_octets": 900}),
        (AcctStatusType.INTERIM_UPDATE, {"event_timestamp": t0 + 95, "acct_session_time": 95}),
    )
    for status, counters in steps:
        answer = await _acct(world, BETA_NAS, "shared", session, status, **counters)
        assert answer.code is Code.ACCOUNTING_RESPONSE, world.radius.log()[-2000:]
    row = await db.pool.fetchrow(
        f"SELECT acctstoptime, acctsessiontime, acctinputoctets FROM {world.beta.schema}.radacct"
        " WHERE acctsessionid = $1",
        session,
    )
    assert row is not None
    assert int(row["acctstoptime"].timestamp()) == t0 + 60  # the first stop wins
    assert (row["acctsessiontime"], row["acctinputoctets"]) == (60, 700)


async def test_post_auth_log_keeps_no_password(world: World, db: Database):
    wrong = f"wrong-{secrets.token_hex(4)}"
    assert (await _auth(world, ALPHA_NAS, "rahim", wrong)).code is Code.ACCESS_REJECT
    assert (await _auth(world, ALPHA_NAS, "rahim", "rahim-pw")).code is Code.ACCESS_ACCEPT
    rows = await db.pool.fetch(
        f"SELECT * FROM {world.alpha.schema}.radpostauth WHERE username = 'rahim' ORDER BY id DESC LIMIT 2"
    )
    assert {r["reply"] for r in rows} == {"Access-Reject", "Access-Accept"}
    assert all(r["pass"] is None for r in rows)
    assert not any(secret in str(dict(r)) for r in rows for secret in (wrong, "rahim-pw"))


async def _nas_status(world: World, nas: str, status: AcctStatusType) -> Packet:
    secret = ALPHA_SECRET if nas == ALPHA_NAS else BETA_SECRET
    attributes = [attr("NAS-IP-Address", nas), attr("Acct-Status-Type", status), attr("Acct-Session-Id", "0")]
    radius = world.radius
    return await send_request(
        radius.address,
        radius.acct_port,
        secret,
        Code.ACCOUNTING_REQUEST,
        attributes,
        source_address=nas,
        timeout=2,
        retries=1,
    )


def test_freeradius_s_own_user_can_read_the_generated_configuration(tmp_path: Path):
    """The docs run `ispb radius config` as root into /etc/freeradius/3.0 (group freerad); FreeRADIUS re-reads its
    configuration as freerad on reload, so the files must carry the directory's group."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the check runs FreeRADIUS as its own user, freerad")
    binary()  # FreeRADIUS must be installed: fail loudly otherwise
    freerad = pwd.getpwnam("freerad")
    base = Path(tempfile.mkdtemp(prefix="ispb-radius-perm-"))
    try:
        base.chmod(0o755)
        raddb = base / "raddb"
        subprocess.run(["cp", "-a", str(STOCK_DIR), str(raddb)], check=True)  # owner and group as installed
        for relative in STOCK_FILES:
            (raddb / relative).unlink(missing_ok=True)
        tenant = RadiusTenant("perm", "tenant_perm", (RadiusNas(1, "edge", "192.0.2.9", "s3cret"),))
        write(render([tenant], database_url="postgresql://radius@db/ispb", listen=Listen("127.0.0.1")), raddb)
        assert (raddb / "clients.conf").stat().st_gid == freerad.pw_gid
        check = subprocess.run(
            ["runuser", "-u", "freerad", "--", binary(), "-XC", "-d", str(raddb), "-D", "/usr/share/freeradius"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "Configuration appears to be OK" in check.stdout, (check.stdout + check.stderr)[-3000:]
    finally:
        shutil.rmtree(base)
