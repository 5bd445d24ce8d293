"""``ispb secrets reseal`` and ``ispb secrets rotate`` against a real database: values of the first scheme and
of an old key are sealed again under the target key, bound to their tenant, purpose and row; the old key can then
be removed; a value that opens with no key is reported, not lost."""

import asyncio
import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from factories import legacy_seal, make_customer, make_router
from ispb_platform.cli.secrets import secrets as secrets_command
from ispb_platform.network.routers.status import check_router
from ispb_platform.notify.gateways import gateway_binding
from ispb_platform.secrets.queries import SEALED_COLUMNS
from ispb_platform.secrets_box import Binding, Purpose, SealError, accept_old_keys, key_id, reveal
from ispb_tenants import Database, TenantRef

KEY = "a" * 40
NEW = "b" * 40


@pytest.fixture(autouse=True)
def fx_process_keys() -> Iterator[None]:
    """The CLI loads settings, which hand ISPB_OLD_SECRET_KEYS to secrets_box for the process: reset after."""
    yield
    accept_old_keys(())


async def _seed_v1(db: Database, tenant: TenantRef) -> dict[str, int]:
    """A router, a customer and a gateway whose secrets were stored by the first scheme, under KEY."""
    async with db.tenant(tenant) as scope:
        router_id = await make_router(
            scope,
            password_sealed=legacy_seal(KEY, f"api-{tenant.slug}"),
            mode="radius",
            radius_secret_sealed=legacy_seal(KEY, f"nas-{tenant.slug}"),
            nas_address="192.0.2.10",
        )
        customer_id = await make_customer(scope, pppoe_password_sealed=legacy_seal(KEY, f"dial-{tenant.slug}"))
        await scope.connection.execute(
            "INSERT INTO notify_gateway (channel, kind, config, secret_sealed) VALUES ('sms', 'http_sms', $1, $2)",
            json.dumps({"url": "http://gw.test/"}),
            legacy_seal(KEY, f"gw-{tenant.slug}"),
        )
    return {"router": router_id, "customer": customer_id}


async def _opened(db: Database, tenant: TenantRef, ids: dict[str, int], key: str) -> dict[str, str]:
    """Every seeded secret opened with ``key`` only (no old keys), each for its own binding."""
    async with db.tenant(tenant) as scope:
        router = await scope.connection.fetchrow(
            "SELECT password_sealed, radius_secret_sealed FROM router WHERE id = $1", ids["router"]
        )
        dial = await scope.connection.fetchval(
            "SELECT pppoe_password_sealed FROM customer WHERE id = $1", ids["customer"]
        )
        gateway = await scope.connection.fetchval("SELECT secret_sealed FROM notify_gateway")
    for sealed in (*router.values(), dial, gateway):
        assert sealed.startswith(f"v2:{key_id(key)}:")
    return {
        "api": reveal(
            key, router["password_sealed"], Binding(tenant.id, Purpose.ROUTER_API_PASSWORD, ids["router"]), old_keys=()
        ),
        "nas": reveal(
            key,
            router["radius_secret_sealed"],
            Binding(tenant.id, Purpose.ROUTER_RADIUS_SECRET, ids["router"]),
            old_keys=(),
        ),
        "dial": reveal(key, dial, Binding(tenant.id, Purpose.CUSTOMER_PPPOE_PASSWORD, ids["customer"]), old_keys=()),
        "gw": reveal(key, gateway, gateway_binding(tenant.id, "sms"), old_keys=()),
    }


async def _cli(database_url: str, args: list[str], **env: str) -> tuple[int, str]:
    result = await asyncio.to_thread(
        CliRunner().invoke, secrets_command, args, env={"ISPB_DATABASE_URL": database_url, **env}
    )
    return result.exit_code, result.output


async def test_reseal_moves_first_scheme_values_to_aes_gcm_bound_to_their_rows(
    db: Database, database_url: str, make_tenant
):
    one, two = await make_tenant("rs"), await make_tenant("rs")
    seeded = {t.slug: (t, await _seed_v1(db, t)) for t in (one, two)}
    only = ["--tenant", one.slug, "--tenant", two.slug]
    code, output = await _cli(database_url, ["reseal", *only], ISPB_SECRET_KEY=KEY)
    assert code == 0, output
    assert f"{one.slug}: re-sealed 4 value(s)" in output and f"8 value(s) re-sealed under key {key_id(KEY)}" in output
    for slug, (tenant, ids) in seeded.items():
        assert await _opened(db, tenant, ids, KEY) == {
            "api": f"api-{slug}",
            "nas": f"nas-{slug}",
            "dial": f"dial-{slug}",
            "gw": f"gw-{slug}",
        }
    again = await _cli(database_url, ["reseal", *only], ISPB_SECRET_KEY=KEY)
    assert again[0] == 0 and "0 value(s) re-sealed" in again[1]  # idempotent
    # A re-sealed value copied to another tenant's row does not open there: a clear error, not a crash
    tenant_one, ids_one = seeded[one.slug]
    tenant_two, ids_two = seeded[two.slug]
    async with db.tenant(tenant_one) as scope:
        copied = await scope.connection.fetchval("SELECT password_sealed FROM router WHERE id = $1", ids_one["router"])
    async with db.tenant(tenant_two) as scope:
        await scope.connection.execute(
            "UPDATE router SET password_sealed = $2 WHERE id = $1", ids_two["router"], copied
        )
    check = await check_router(db, tenant_two, KEY, ids_two["router"], answer_within=1)
    assert not check.ok and "SealError" in check.error and "copied from another row, purpose or operator" in check.error


async def test_rotate_reseals_under_a_new_key_and_the_old_key_can_then_be_removed(
    db: Database, database_url: str, make_tenant
):
    tenant = await make_tenant("rot")
    ids = await _seed_v1(db, tenant)
    only = ["--tenant", tenant.slug]
    assert (await _cli(database_url, ["reseal", *only], ISPB_SECRET_KEY=KEY))[0] == 0
    refused = await _cli(database_url, ["rotate", "--new-key-env", "ISPB_NEW_KEY", *only], ISPB_SECRET_KEY=KEY)
    assert refused[0] == 2 and "ISPB_NEW_KEY must hold the new key" in refused[1]
    code, output = await _cli(
        database_url, ["rotate", "--new-key-env", "ISPB_NEW_KEY", *only], ISPB_SECRET_KEY=KEY, ISPB_NEW_KEY=NEW
    )
    assert code == 0, output
    assert f"4 value(s) re-sealed under key {key_id(NEW)}" in output and "set ISPB_SECRET_KEY" in output
    opened = await _opened(db, tenant, ids, NEW)  # the new key alone opens everything: the old one can go
    assert opened["api"] == f"api-{tenant.slug}" and opened["gw"] == f"gw-{tenant.slug}"
    async with db.tenant(tenant) as scope:
        sealed = await scope.connection.fetchval("SELECT password_sealed FROM router WHERE id = $1", ids["router"])
    with pytest.raises(SealError, match="which this process does not have"):
        reveal(KEY, sealed, Binding(tenant.id, Purpose.ROUTER_API_PASSWORD, ids["router"]), old_keys=())
    # After the switch (ISPB_SECRET_KEY=new, ISPB_OLD_SECRET_KEYS=old), reseal finds nothing left to move
    after = await _cli(database_url, ["reseal", *only], ISPB_SECRET_KEY=NEW, ISPB_OLD_SECRET_KEYS=KEY)
    assert after[0] == 0 and "0 value(s) re-sealed" in after[1]


async def test_a_value_no_key_opens_is_reported_and_left_alone(db: Database, database_url: str, make_tenant):
    tenant = await make_tenant("bad")
    ids = await _seed_v1(db, tenant)
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            "UPDATE customer SET pppoe_password_sealed = $2 WHERE id = $1", ids["customer"], legacy_seal(NEW, "lost")
        )
    code, output = await _cli(database_url, ["reseal", "--tenant", tenant.slug], ISPB_SECRET_KEY=KEY)
    assert code == 1
    assert f"cannot open {tenant.slug} customer {ids['customer']}" in output and "3 value(s) re-sealed" in output
    async with db.tenant(tenant) as scope:
        kept = await scope.connection.fetchval(
            "SELECT pppoe_password_sealed FROM customer WHERE id = $1", ids["customer"]
        )
    assert kept.startswith("v1.")
    unknown = await _cli(database_url, ["reseal", "--tenant", "no-such-isp"], ISPB_SECRET_KEY=KEY)
    assert unknown[0] == 2 and "no such operator: no-such-isp" in unknown[1]


async def test_every_sealed_column_of_a_tenant_schema_is_resealed(db: Database, make_tenant):
    """A new ``*_sealed`` column must join SEALED_COLUMNS, or reseal and rotate would leave it behind."""
    tenant = await make_tenant("cols")
    rows = await db.pool.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1"
        " AND column_name LIKE '%\\_sealed'",
        tenant.schema,
    )
    assert {(r["table_name"], r["column_name"]) for r in rows} == {(c.table, c.column) for c in SEALED_COLUMNS}


async def test_the_platforms_payment_gateway_accounts_are_resealed_too(db: Database, make_tenant):
    from ispb_platform.payments.online.accounts import PLATFORM_ACCOUNTS, GatewayAccount, accounts, save_account
    from ispb_platform.payments.online.gateway import Provider
    from ispb_platform.secrets.service import reseal_all

    tenant = await make_tenant("pgw")
    account = GatewayAccount(Provider.SSLCOMMERZ, True, "sandbox", "", "store1", {"store_password": "pw-1"})
    # the platform's only sealed values are ours: earlier tests (the form fuzz) may have saved gateway accounts
    # or a bucket secret with the web app's key, which KEY cannot open
    await db.pool.execute("DELETE FROM platform.payment_gateway")
    bucket = await db.pool.fetchrow("SELECT destination, s3_secret_sealed FROM platform.backup_settings")
    await db.pool.execute("UPDATE platform.backup_settings SET destination = 'local', s3_secret_sealed = NULL")
    try:
        async with db.platform() as connection:
            await save_account(connection, PLATFORM_ACCOUNTS, KEY, account)
        report = await reseal_all(db, target_key=NEW, open_with=(KEY,), only=(tenant.slug,), platform=True)
        assert report.resealed["platform"] == 1 and not report.unreadable
        async with db.platform() as connection:
            opened = await accounts(connection, PLATFORM_ACCOUNTS, NEW)  # the new key alone opens it
        assert opened[Provider.SSLCOMMERZ].secrets == {"store_password": "pw-1"}
        again = await reseal_all(db, target_key=NEW, open_with=(KEY,), only=(tenant.slug,), platform=True)
        assert again.resealed["platform"] == 0
    finally:
        await db.pool.execute("DELETE FROM platform.payment_gateway")
        await db.pool.execute(
            "UPDATE platform.backup_settings SET destination = $1, s3_secret_sealed = $2", *bucket.values()
        )


async def test_the_backup_buckets_secret_is_resealed_too(db: Database, make_tenant):
    from dataclasses import replace

    from ispb_platform.backups.destinations import S3_SECRET, load_settings, save_settings
    from ispb_platform.secrets.service import reseal_all

    tenant = await make_tenant("bks")
    settings = await load_settings(db)
    try:
        await save_settings(db, replace(settings, s3_bucket="b"), s3_secret="bucket-secret", secret_key=KEY)
        report = await reseal_all(db, target_key=NEW, open_with=(KEY,), only=(tenant.slug,), platform=True)
        assert report.resealed["platform"] == 1 and not report.unreadable
        sealed = await db.fetchval("SELECT s3_secret_sealed FROM platform.backup_settings")
        assert reveal(NEW, sealed, S3_SECRET, old_keys=()) == "bucket-secret"
    finally:
        await save_settings(db, settings, s3_secret="", secret_key=KEY)
