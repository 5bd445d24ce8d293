"""``ispb netflow collect``: run the NetFlow collector (nfcapd) for every tenant's routers."""

import asyncio
import contextlib
import signal

import click

from ispb_netsync.netflow import NfcapdCollector
from ispb_platform.cli.common import configure_logging, console, database, log_file, run, settings
from ispb_platform.network.netflow.collect import CollectorLog, run_collector


@click.group()
def netflow() -> None:
    """NetFlow records: collect routers' flows (nfcapd), searched on Logs → NetFlow."""


@netflow.command()
@click.option(
    "--refresh",
    default=60.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds between re-reading the routers (a new or changed router restarts nfcapd).",
)
@click.option(
    "--rotation",
    default=300,
    show_default=True,
    type=click.IntRange(60, 3600),
    help="Seconds per capture file: how soon flows become searchable.",
)
def collect(refresh: float, rotation: int) -> None:
    """Receive NetFlow v5/v9 and IPFIX on ISPB_NETFLOW_HOST:ISPB_NETFLOW_PORT (UDP) into ISPB_DATA_DIR/netflow/.

    Each router's flows are filed under its tenant by the router's exporter address (its NetFlow address,
    else its NAS address, else its host). Flows from any other address are dropped and logged.
    """
    config = settings()
    configure_logging(config.log_level, log_file(config, "netflow"))

    async def main() -> None:
        # SIGTERM (systemd stop) ends it like Ctrl-C: nfcapd is stopped and closes its files, never orphaned
        this = asyncio.current_task()
        assert this is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, this.cancel)
        collector = NfcapdCollector(
            host=config.netflow_host, port=config.netflow_port, log=CollectorLog(), rotation_s=rotation
        )
        console.print(f"collecting NetFlow on {config.netflow_host}:{config.netflow_port} (UDP); Ctrl-C stops")
        async with database(config) as db:
            with contextlib.suppress(asyncio.CancelledError):
                await run_collector(db, config.data_dir, collector, refresh_s=refresh)

    with contextlib.suppress(KeyboardInterrupt):
        run(main)
