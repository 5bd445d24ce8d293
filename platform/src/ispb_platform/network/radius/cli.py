"""``ispb radius config``: write the FreeRADIUS configuration for every tenant."""

from functools import partial
from pathlib import Path

import click

from ispb_platform.cli.common import Failed, console, database, run, settings
from ispb_platform.network.radius.config import STOCK_FILES, Listen, generate
from ispb_platform.runtime import resolve_database_url
from ispb_platform.secrets_box import reveal


@click.group()
def radius() -> None:
    """FreeRADIUS: configuration generated from the tenants and their RADIUS routers."""


@radius.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The FreeRADIUS directory to write into, e.g. /etc/freeradius/3.0.",
)
@click.option("--address", default="*", show_default=True, help="The address FreeRADIUS listens on.")
@click.option("--port", default=1812, show_default=True, type=click.IntRange(1, 65535), help="Authentication port.")
@click.option("--acct-port", default=1813, show_default=True, type=click.IntRange(1, 65535), help="Accounting port.")
def config(out: Path, address: str, port: int, acct_port: int) -> None:
    """Write clients.conf, mods-enabled/ispb_sql and sites-enabled/ispb under OUT, then reload FreeRADIUS.

    FreeRADIUS connects to the database in ISPB_DATABASE_URL; each tenant's connection sees only its schema.
    """
    if port == acct_port:
        raise Failed("--port and --acct-port must differ")
    config = settings()
    if config.secret_key is None:
        raise Failed("ISPB_SECRET_KEY is needed to reveal the routers' RADIUS secrets")
    unseal = partial(reveal, config.secret_key)

    async def main() -> None:
        url = await resolve_database_url(config)
        async with database(config) as db, db.pool.acquire() as conn:
            result = await generate(conn, out, database_url=url, reveal=unseal, listen=Listen(address, port, acct_port))
        for relative in result.files:
            console.print(f"wrote {out / relative}")
        for skipped in result.skipped:
            console.print(f"[yellow]skipped[/] router {skipped.router_name} of {skipped.tenant}: {skipped.reason}")
        stale = [name for name in STOCK_FILES if (out / name).exists()]
        if stale:
            console.print(
                f"[yellow]remove[/] {' '.join(str(out / name) for name in stale)}: the stock sites listen on the "
                "same ports, and the eap module does not start without the default site"
            )

    run(main)
