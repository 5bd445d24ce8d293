"""``ispb web``, ``ispb worker`` and ``ispb demo``."""

import errno
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import click
import uvicorn
from litestar import Litestar
from litestar.types import ControllerRouterHandler

from ispb_platform.app import create_app
from ispb_platform.cli.common import (
    Failed,
    attach_log_file,
    configure_logging,
    console,
    log_file,
    run,
    runtime,
    settings,
)
from ispb_platform.demo import payment_gateway, sms_sink
from ispb_platform.demo.monitoring import ROUTES as demo_monitoring_routes
from ispb_platform.demo.monitoring import DemoPorts, demo_monitoring
from ispb_platform.demo.netflow import availability_note, demo_netflow
from ispb_platform.demo.olts import demo_olts
from ispb_platform.demo.router import demo_routers
from ispb_platform.demo.setup import DEMO_OPERATORS, DemoLogin, prepare_demo
from ispb_platform.jobs.worker import build_worker
from ispb_platform.network.traffic.files import rrd_files
from ispb_platform.settings import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else f"cannot be opened ({error})"
            raise Failed(f"{host}:{port} {reason}; choose another with --port or ISPB_PORT") from None


def _serve(
    config: Settings,
    host: str | None,
    port: int | None,
    *,
    run_worker: bool,
    lifespans: Sequence[Callable[[Litestar], AbstractAsyncContextManager[None]]] = (),
    extra_routes: Sequence[ControllerRouterHandler] = (),
) -> None:
    host = host or config.host
    port = port or config.port
    _check_port_free(host, port)
    if (target := log_file(config, "web")) is not None:
        attach_log_file(target)  # uvicorn configures its own loggers and leaves the root's handlers
    uvicorn.run(
        create_app(config, run_worker=run_worker, lifespans=lifespans, extra_routes=extra_routes, warm_renderer=True),
        host=host,
        port=port,
        log_level=config.log_level,
        proxy_headers=False,
    )


@click.command()
@click.option("--host", help="Address to listen on (default ISPB_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default ISPB_PORT or 8000).")
@click.option("--with-worker", is_flag=True, help="Also run the job worker in this process.")
def web(host: str | None, port: int | None, with_worker: bool) -> None:
    """Serve the web platform."""
    config = settings()
    _serve(config, host, port, run_worker=with_worker)


@click.command()
@click.option("--concurrency", type=int, help="Jobs run at once (default ISPB_WORKER_CONCURRENCY or 10).")
def worker(concurrency: int | None) -> None:
    """Run a job worker: the schedule's cron ticks and queued jobs. Run as many as needed."""
    config = settings()
    configure_logging(config.log_level, log_file(config, "worker"))

    async def main() -> None:
        async with runtime(config) as active, rrd_files(config.rrdcached_socket, config.data_dir, owner=True):
            saq_worker = build_worker(
                active.db,
                active.queue,
                secret_key=config.secret_key or "",
                outbound=config.outbound,
                public_ipv4=config.public_ipv4,
                data_dir=config.data_dir,
                concurrency=concurrency or config.worker_concurrency,
                heartbeat_s=config.job_heartbeat_s,
                own_process=True,
            )
            console.print(f"worker started on the {type(active.queue).__name__}; Ctrl-C stops it")
            await saq_worker.start()  # returns on SIGINT/SIGTERM after finishing or re-queueing jobs

    run(main)


@click.command()
@click.option("--host", help="Address to listen on (default ISPB_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default ISPB_PORT or 8000).")
@click.option("--customers", default=300, show_default=True, help="Customers per demo operator.")
def demo(host: str | None, port: int | None, customers: int) -> None:
    """Create the demo platform (2 operators with customers) and serve web + worker in one process."""
    config = settings()
    host, port = host or config.host, port or config.port
    _check_port_free(host, port)
    if "ISPB_COOKIE_SECURE" not in os.environ and host in LOOPBACK:
        # the demo serves plain HTTP on this machine only; browsers drop Secure cookies over HTTP
        config = replace(config, cookie_secure=False)
    config = replace(config, outbound=sms_sink.allow_sink(config.outbound, host, port))
    # the simulated routers and the Zabbix get their ports now, so the outbound policy can allow just those
    ports = DemoPorts.free(len(DEMO_OPERATORS))
    config = replace(config, outbound=ports.allow(config.outbound))
    # the demo's payment gateways run on this machine: their calls come from loopback
    config = replace(config, public_ipv4=config.public_ipv4 or "127.0.0.1")

    async def main() -> list[DemoLogin]:
        async with runtime(config) as active:
            return await prepare_demo(
                active.db,
                secret_key=config.secret_key or "",
                customers_per_operator=customers,
                sms_gateway_url=sms_sink.gateway_url(host, port),
                payment_gateway_url=payment_gateway.gateway_url(host, port),
                web_url=f"http://{host}:{port}",
                zabbix_url=ports.zabbix_url,
                data_dir=config.data_dir,
            )

    logins = run(main)
    url = f"http://{host}:{port}/"
    console.print(f"\n[bold green]ISPB demo is ready:[/] [bold]{url}[/]   (health: {url}healthz)")
    console.print("Demo logins:")
    for login in logins:
        console.print(f"  {login.role:<16} {login.login:<28} password: {login.password:<18} {login.where}")
    console.print(
        "Database: "
        + (
            "embedded PostgreSQL in " + str(config.data_dir / "postgres")
            if config.embedded_database
            else "ISPB_DATABASE_URL"
        )
        + "; queue: "
        + ("Redis" if config.redis_url else "PostgreSQL")
        + ". Ctrl-C stops.\n"
    )
    console.print(f"Demo SMS gateway (what customers would receive; platform admin): {url}demo/sms-gateway/")
    console.print(
        f"Online payments: {url}suspended/dhaka-fiber/ is customer C000003's suspension portal (suspended, at this"
        " machine's address): Pay now goes through the demo bKash gateway and brings them back online."
    )
    slugs = [o.slug for o in DEMO_OPERATORS]
    console.print(
        f"Status pages: {url}status/{slugs[0]} ; stop or start an operator's simulated router (operator admin):"
        f" {url}demo/router/ ; Monitoring dashboard with Zabbix: {url}panel/monitoring"
    )
    console.print(availability_note(config.netflow_port))
    _serve(
        config,
        host,
        port,
        run_worker=True,
        lifespans=[
            demo_routers(slugs, ports.routers),
            demo_monitoring(slugs, ports, secret_key=config.secret_key or "", outbound=config.outbound),
            demo_olts(slugs),
            demo_netflow(slugs, config.data_dir, config.netflow_port),
        ],
        extra_routes=[*sms_sink.ROUTES, *payment_gateway.ROUTES, *demo_monitoring_routes],
    )
