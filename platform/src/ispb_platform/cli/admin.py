"""``ispb admin create``: platform administrators, starting with the first one of a fresh installation."""

import click

from ispb_platform.admin.service import checked_account, create_platform_admin
from ispb_platform.cli.common import Failed, console, database, read_new_password, run, settings


@click.group()
def admin() -> None:
    """Platform administrators (they run the admin console at /admin/)."""


@admin.command()
@click.argument("email")
@click.option("--name", default="", help="The person's name (default: the part of the e-mail before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create(email: str, name: str, password_stdin: bool) -> None:
    """Create a platform administrator; the password is prompted twice, or read from standard input."""
    name = name or email.split("@")[0]
    try:
        checked_account(email, name, "x" * 64)  # a bad e-mail or name fails before asking for a password
    except ValueError as error:
        raise Failed(str(error)) from None
    password = read_new_password(password_stdin)
    config = settings()

    async def main() -> None:
        async with database(config) as db:
            await create_platform_admin(db, email, name, password)
        console.print(f"created platform admin [bold]{email.strip()}[/]: sign in at /login")

    run(main)
