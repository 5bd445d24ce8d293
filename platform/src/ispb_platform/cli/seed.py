"""``ispb seed --tenants N --customers M``: synthetic operators and customers for demos and benchmarks."""

import time

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ispb_platform.cli.common import console, database, run, settings
from ispb_platform.demo.seed import ensure_packages, seed_customers
from ispb_tenants import ensure_tenant


@click.command()
@click.option("--tenants", "tenant_count", type=click.IntRange(1, 10_000), default=1, show_default=True)
@click.option(
    "--customers",
    type=click.IntRange(0, 10_000_000),
    default=1000,
    show_default=True,
    help="Customers added to each tenant.",
)
@click.option("--prefix", default="seed", show_default=True, help="Tenant slugs are <prefix>-0001, ...")
def seed(tenant_count: int, customers: int, prefix: str) -> None:
    """Create (or reuse) N tenants and add M customers to each, set-based."""
    config = settings()

    async def main() -> tuple[int, float]:
        started = time.perf_counter()
        async with database(config) as db:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console) as progress:
                task = progress.add_task("seeding tenants", total=tenant_count)
                for number in range(1, tenant_count + 1):
                    tenant = await ensure_tenant(db, f"{prefix}-{number:04d}", f"Seed ISP {number}")
                    async with db.tenant(tenant) as scope:
                        await ensure_packages(scope)
                        await seed_customers(scope, customers, seed=number)
                    progress.advance(task)
        return tenant_count * customers, time.perf_counter() - started

    added, seconds = run(main)
    console.print(f"added {added:,} customers to {tenant_count} tenant(s) in {seconds:.1f} s")
