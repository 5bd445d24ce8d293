"""The ``ispb`` command line: serve, run jobs, manage tenants, seed data.

Every command loads the settings first; a bad setting or an unreachable database ends the command with one
clear line on stderr and exit status 2, not a traceback.
"""

import click

from ispb_platform.cli.jobs import jobs
from ispb_platform.cli.seed import seed
from ispb_platform.cli.serve import demo, web, worker
from ispb_platform.cli.tenants import tenants


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """ISPB: billing and automation for Internet service providers."""


for command in (web, worker, demo, seed, jobs, tenants):
    cli.add_command(command)


def main() -> None:
    cli()
