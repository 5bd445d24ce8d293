"""The ``ispb`` command line, run as a real process against the test database."""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from factories import make_bill, make_customer
from ispb_tenants import Database
from processes import ispb_environment

ISPB = str(Path(sys.executable).parent / "ispb")


def ispb(
    database_url: str, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = ispb_environment(database_url, ISPB_SECRET_KEY="c" * 40, COLUMNS="200") | (env or {})
    return subprocess.run(
        [ISPB, *args], capture_output=True, text=True, env=environment, timeout=120, check=False, input=stdin
    )


def test_tenants_create_list_migrate_drop(database_url: str):
    slug = f"cli-{secrets.token_hex(3)}"
    created = ispb(database_url, "tenants", "create", slug, "--name", "CLI Net")
    assert created.returncode == 0, created.stderr
    assert f"created tenant {slug}" in created.stdout

    listed = ispb(database_url, "tenants", "list")
    assert slug in listed.stdout and "CLI Net" in listed.stdout

    migrated = ispb(database_url, "tenants", "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert f"up to date {slug}" in migrated.stdout and "0 failed" in migrated.stdout

    refused = ispb(database_url, "tenants", "drop", slug)
    assert refused.returncode == 2 and "without --yes" in refused.stderr
    dropped = ispb(database_url, "tenants", "drop", slug, "--yes")
    assert dropped.returncode == 0 and f"dropped tenant {slug}" in dropped.stdout
    assert slug not in ispb(database_url, "tenants", "list").stdout


@pytest.mark.parametrize("slug", ["Dhaka", "my isp", "x'; DROP SCHEMA platform; --"])
def test_bad_slug_gets_one_clear_line_and_creates_nothing(database_url: str, slug: str):
    result = ispb(database_url, "tenants", "create", slug, "--name", "Bad")
    assert result.returncode == 2
    assert result.stderr.startswith(f"ispb: invalid tenant slug {slug!r}") and result.stderr.count("\n") == 1
    assert slug not in ispb(database_url, "tenants", "list").stdout


def test_duplicate_slug_is_refused(database_url: str):
    slug = f"twice-{secrets.token_hex(3)}"
    assert ispb(database_url, "tenants", "create", slug, "--name", "Once").returncode == 0
    again = ispb(database_url, "tenants", "create", slug, "--name", "Twice")
    assert again.returncode == 2 and "already exists" in again.stderr
    ispb(database_url, "tenants", "drop", slug, "--yes")


def test_bad_setting_stops_the_command_with_one_line(database_url: str):
    result = ispb(database_url, "tenants", "list", env={"ISPB_PORT": "http"})
    assert result.returncode == 2
    assert result.stderr == "ispb: ISPB_PORT must be a whole number from 1 to 65535, got 'http'\n"


def test_unreachable_database_is_one_line(database_url: str):
    result = ispb("postgresql://nobody@127.0.0.1:1/none", "tenants", "list")
    assert result.returncode == 2 and result.stderr.startswith("ispb: database or queue unreachable")


def test_jobs_list_and_run_print_run_records(database_url: str):
    slug = f"jobs-{secrets.token_hex(3)}"
    assert ispb(database_url, "tenants", "create", slug, "--name", "Jobs Net").returncode == 0
    ran = ispb(
        database_url,
        "jobs",
        "run",
        "maintenance.purge_activity_logs",
        "--tenant",
        slug,
        "--today",
        "2026-11-25",
    )
    assert ran.returncode == 0, ran.stderr
    assert f"tenant={slug} today=2026-11-25 status=succeeded counts: purged=0" in ran.stdout

    heartbeat = ispb(database_url, "jobs", "run", "system.heartbeat")
    assert heartbeat.returncode == 0 and "status=succeeded" in heartbeat.stdout

    listed = ispb(database_url, "jobs", "list")
    assert "system.heartbeat" in listed.stdout and "maintenance.purge_activity_logs" in listed.stdout
    assert "succeeded" in listed.stdout

    unknown = ispb(database_url, "jobs", "run", "billing.nope")
    assert unknown.returncode == 2 and "no job named 'billing.nope'; known jobs:" in unknown.stderr
    wrong_scope = ispb(database_url, "jobs", "run", "system.heartbeat", "--tenant", slug)
    assert wrong_scope.returncode == 2 and "platform job" in wrong_scope.stderr
    ispb(database_url, "tenants", "drop", slug, "--yes")


def test_seed_creates_tenants_with_customers(database_url: str):
    prefix = f"sd{secrets.token_hex(2)}"
    result = ispb(database_url, "seed", "--tenants", "2", "--customers", "150", "--prefix", prefix)
    assert result.returncode == 0, result.stderr
    assert "added 300 customers to 2 tenant(s)" in result.stdout
    listed = ispb(database_url, "tenants", "list").stdout
    assert f"{prefix}-0001" in listed and f"{prefix}-0002" in listed
    for number in (1, 2):
        ispb(database_url, "tenants", "drop", f"{prefix}-{number:04d}", "--yes")


FIRST_PASSWORD = "a long first passphrase"


async def _signs_in(make_client, csrf_of, email: str, password: str) -> str:
    """Sign in through the real web form; returns where the app sends the person."""
    client = make_client()
    token = csrf_of((await client.get("/login")).text)
    answer = await client.post("/login", data={"email": email, "password": password, "_csrf_token": token})
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["location"]


async def test_admin_create_makes_a_platform_admin_who_signs_in(database_url: str, db: Database, make_client, csrf_of):
    email = f"first.admin.{secrets.token_hex(3)}@isp.test"
    try:
        created = ispb(database_url, "admin", "create", email, "--name", "First Admin", stdin=FIRST_PASSWORD + "\n")
        assert created.returncode == 0, created.stderr
        assert f"created platform admin {email}" in created.stdout
        stored = await db.fetchval("SELECT password_hash FROM platform.platform_user WHERE email = $1", email)
        assert stored.startswith("$argon2id$") and FIRST_PASSWORD not in stored
        assert await _signs_in(make_client, csrf_of, email, FIRST_PASSWORD) == "/admin/"

        again = ispb(database_url, "admin", "create", email.upper(), "--password-stdin", stdin="another passphrase\n")
        assert again.returncode == 2
        assert again.stderr == f"ispb: a user with the e-mail {email.upper()} already exists; nothing was changed\n"
        assert (
            await _signs_in(make_client, csrf_of, email, FIRST_PASSWORD) == "/admin/"
        )  # the first password still holds
    finally:
        await db.pool.execute("DELETE FROM platform.platform_user WHERE email = $1", email)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("not-an-email",), "a long first passphrase\n", "Enter an e-mail address"),
        (("short@isp.test",), "short\n", "Use at least 10 characters."),
        (("empty@isp.test",), "", "no password on standard input"),
        (("pass@isp.test", "--password", "a long first passphrase"), "", "No such option '--password'"),
    ],
)
def test_admin_create_refuses_bad_input_and_a_password_argument(
    database_url: str, args: tuple[str, ...], stdin: str, message: str
):
    result = ispb(database_url, "admin", "create", *args, stdin=stdin)
    assert result.returncode == 2 and message in result.stderr


async def test_tenants_create_with_owner_makes_an_operator_admin_who_signs_in(
    database_url: str, db: Database, make_client, csrf_of
):
    slug, email = f"own-{secrets.token_hex(3)}", f"owner.{secrets.token_hex(3)}@isp.test"
    try:
        created = ispb(
            database_url, "tenants", "create", slug, "--name", "Owner Net", "--owner", email, stdin=FIRST_PASSWORD
        )
        assert created.returncode == 0, created.stderr
        assert f"created tenant {slug}" in created.stdout and f"created operator admin {email}" in created.stdout
        row = await db.pool.fetchrow(
            "SELECT u.role, u.name, t.slug FROM platform.platform_user u JOIN platform.tenant t ON t.id = u.tenant_id"
            " WHERE u.email = $1",
            email,
        )
        assert dict(row) == {"role": "operator_admin", "name": email.split("@")[0], "slug": slug}
        assert await _signs_in(make_client, csrf_of, email, FIRST_PASSWORD) == "/panel/"

        other = f"taken-{secrets.token_hex(3)}"
        taken = ispb(database_url, "tenants", "create", other, "--name", "Taken", "--owner", email, stdin="x" * 12)
        assert taken.returncode == 2 and f"a user with the e-mail {email} already exists" in taken.stderr
        assert other not in ispb(database_url, "tenants", "list").stdout  # both or neither
    finally:
        ispb(database_url, "tenants", "drop", slug, "--yes")
        await db.pool.execute("DELETE FROM platform.platform_user WHERE email = $1", email)


def test_backup_create_list_and_restore_as_a_new_operator(database_url: str, tmp_path: Path):
    slug, copy = f"bk-{secrets.token_hex(3)}", f"bkc-{secrets.token_hex(3)}"
    data = {"ISPB_DATA_DIR": str(tmp_path)}
    assert ispb(database_url, "tenants", "create", slug, "--name", "Backup Net").returncode == 0
    created = ispb(database_url, "backup", "create", "--tenant", slug, env=data)
    assert created.returncode == 0, created.stderr
    assert f"backed up {slug}: tenants/{slug}/{slug}-" in created.stdout
    listed = ispb(database_url, "backup", "list", "--tenant", slug, env=data)
    [name] = [word for word in listed.stdout.split() if word.endswith(".ispb-backup")]
    assert "succeeded" in listed.stdout and "not yet" in listed.stdout

    refused = ispb(database_url, "backup", "restore", name, "--tenant", slug, env=data)
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    restored = ispb(database_url, "backup", "restore", name, "--as", copy, env=data)
    assert restored.returncode == 0, restored.stderr
    assert f"restored operator {copy}" in restored.stdout
    assert copy in ispb(database_url, "tenants", "list").stdout
    over = ispb(database_url, "backup", "restore", str(tmp_path / "backups" / "tenants" / slug / name), "--tenant",
                slug, "--yes", env=data)  # fmt: skip
    assert over.returncode == 0, over.stderr
    missing = ispb(database_url, "backup", "restore", "nope.ispb-backup", "--as", "x-nope", env=data)
    assert missing.returncode == 2 and "no backup file 'nope.ispb-backup'" in missing.stderr
    for name in (slug, copy):
        ispb(database_url, "tenants", "drop", name, "--yes")


async def test_restore_as_a_new_operator_with_an_owner_who_signs_in_and_sees_the_same_customers_and_bills(
    database_url: str, db: Database, make_tenant, make_client, sign_in, tmp_path: Path
):
    """The way into a restored copy: ``--owner EMAIL`` makes its operator admin (password from standard input,
    as ``ispb tenants create --owner``), who signs in to the copy's panel and finds the source's customers and
    bills; a taken e-mail, or ``--owner`` without ``--as``, restores nothing."""
    source = await make_tenant("bko")
    web_key = {"ISPB_SECRET_KEY": "t" * 40, "ISPB_DATA_DIR": str(tmp_path)}  # the web app's key: secrets open there
    async with db.tenant(source) as scope:
        for n in range(3):
            await make_bill(scope, customer_id=await make_customer(scope, name=f"Shirin {n}", secret_key="t" * 40))
        names = [r["name"] for r in await scope.connection.fetch("SELECT name FROM customer ORDER BY name")]
        numbers = [r["number"] for r in await scope.connection.fetch("SELECT number FROM bill ORDER BY number")]
    created = ispb(database_url, "backup", "create", "--tenant", source.slug, env=web_key)
    assert created.returncode == 0, created.stderr
    [file] = (tmp_path / "backups" / "tenants" / source.slug).glob("*.ispb-backup")
    copy, email = f"bkc-{secrets.token_hex(3)}", f"copy.owner.{secrets.token_hex(3)}@isp.test"
    taken_email = f"taken.{secrets.token_hex(3)}@isp.test"
    await db.pool.execute(
        "INSERT INTO platform.platform_user (email, name, password_hash, role)"
        " VALUES ($1, 'Taken', 'x', 'platform_admin')",
        taken_email,
    )
    try:
        alone = ispb(database_url, "backup", "restore", str(file), "--tenant", source.slug, "--yes", "--owner", email,
                     stdin=FIRST_PASSWORD + "\n", env=web_key)  # fmt: skip
        assert alone.returncode == 2 and "use it with --as NEW_SLUG" in alone.stderr
        taken = ispb(database_url, "backup", "restore", str(file), "--as", copy, "--owner", taken_email,
                     "--password-stdin", stdin=FIRST_PASSWORD + "\n", env=web_key)  # fmt: skip
        assert taken.returncode == 2 and "already exists; nothing was restored" in taken.stderr
        assert await db.fetchval("SELECT count(*) FROM platform.tenant WHERE slug = $1", copy) == 0

        restored = ispb(database_url, "backup", "restore", str(file), "--as", copy, "--owner", email, "--owner-name",
                        "Copy Owner", "--password-stdin", stdin=FIRST_PASSWORD + "\n", env=web_key)  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        assert f"restored operator {copy}" in restored.stdout and f"created operator admin {email}" in restored.stdout
        owner = await db.pool.fetchrow(
            "SELECT u.role, u.name, t.slug FROM platform.platform_user u JOIN platform.tenant t ON t.id = u.tenant_id"
            " WHERE u.email = $1",
            email,
        )
        assert dict(owner) == {"role": "operator_admin", "name": "Copy Owner", "slug": copy}

        client = make_client()
        await sign_in(client, email, FIRST_PASSWORD)
        customers = await client.get("/panel/customers/")
        bills = await client.get("/panel/bills/")
        assert customers.status_code == 200 and bills.status_code == 200
        assert all(name in customers.text for name in names) and len(names) == 3
        assert all(number in bills.text for number in numbers) and len(numbers) == 3
    finally:
        ispb(database_url, "tenants", "drop", copy, "--yes")
        await db.pool.execute("DELETE FROM platform.platform_user WHERE email = ANY($1::text[])", [email, taken_email])
