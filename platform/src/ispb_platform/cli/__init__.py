"""The ``ispb`` command line: serve, run jobs, manage tenants, seed data, re-seal secrets.

Every command loads the settings first; a bad setting or an unreachable database ends the command with one
clear line on stderr and exit status 2, not a traceback. Command modules load only when their command runs,
so ``ispb tenants list`` does not pay for importing the web framework.
"""

import importlib
import signal
from types import FrameType

import click

# command name -> "module:attribute"
_COMMANDS = {
    "demo": "ispb_platform.cli.serve:demo",
    "web": "ispb_platform.cli.serve:web",
    "worker": "ispb_platform.cli.serve:worker",
    "admin": "ispb_platform.cli.admin:admin",
    "backup": "ispb_platform.cli.backup:backup",
    "tenants": "ispb_platform.cli.tenants:tenants",
    "jobs": "ispb_platform.cli.jobs:jobs",
    "seed": "ispb_platform.cli.seed:seed",
    "radius": "ispb_platform.network.radius.cli:radius",
    "netflow": "ispb_platform.network.netflow.cli:netflow",
    "secrets": "ispb_platform.cli.secrets:secrets",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """ISPB: billing and automation for Internet service providers."""


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    cli()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (systemd, docker, ``kill``) ends a command through its exit handlers, as Ctrl-C does. By default
    it ends the process without them, and the embedded PostgreSQL's (pgserver's) handler is what stops the server
    when its last user exits: it kept running. Uvicorn handles SIGTERM while it serves and raises it again after
    its graceful shutdown, with this handler back in place. A stop that was asked for and went cleanly exits 0,
    as after Ctrl-C (systemd counts anything else as a failed stop)."""
    raise SystemExit(0)
