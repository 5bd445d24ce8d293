"""The FreeRADIUS configuration for all tenants: one SQL module instance and one virtual server per tenant.

Tenant mapping (docs/radius.md): each RADIUS-mode router becomes a ``client`` whose ``virtual_server`` is its
tenant's server; that server calls only its tenant's ``sql_<tenant>`` instance, whose table names are
qualified with the tenant schema and whose connection's ``search_path`` is that schema alone. A request is
mapped by the address it comes from, so it can only ever read and write its own tenant's tables.

Output (relative to the FreeRADIUS directory, e.g. /etc/freeradius/3.0)::

    clients.conf                 replaces the stock file: our NAS clients only
    mods-enabled/ispb_sql        the per-tenant sql instances
    mods-config/ispb/queries.conf  their queries (stock authorization, our accounting and post-auth)
    sites-enabled/ispb           the listeners and the per-tenant virtual servers

The stock files in `STOCK_FILES` must be removed once (docs/radius.md says so, ``ispb radius config`` reminds).

Example::

    config = await generate(conn, Path("/etc/freeradius/3.0"), database_url=url, reveal=unseal)
    for skipped in config.skipped:
        print(skipped.reason)
"""

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from ispb_platform.network.radius import queries
from ispb_platform.secrets_box import Binding, Purpose
from ispb_tenants.slugs import SCHEMA_PREFIX

CLIENTS_FILE = "clients.conf"
MODULES_FILE = "mods-enabled/ispb_sql"
SITES_FILE = "sites-enabled/ispb"
QUERIES_FILE = "mods-config/ispb/queries.conf"
STOCK_FILES = ("sites-enabled/default", "sites-enabled/inner-tunnel", "mods-enabled/eap")
"""Stock files that must go when ours are installed (the `rm` line of docs/radius.md, and the test harness
removes exactly these): the two sites listen on 1812/1813 like ours, and the eap module refuses to start
without the default site's ``Auth-Type EAP`` section (``mods-enabled/eap: Failed to find 'Auth-Type EAP'``).
Our servers offer PAP, CHAP and MS-CHAP only, which is what PPPoE and hotspot NASes use."""

Connection = asyncpg.Connection | PoolConnectionProxy
Reveal = Callable[[str, Binding], str]  # secrets_box.reveal with the key applied


class RadiusConfigError(ValueError):
    """The configuration cannot be generated as asked; the message says what to fix."""


@dataclass(frozen=True)
class Listen:
    """Where FreeRADIUS listens: ``address`` ``*`` means every address."""

    address: str = "*"
    auth_port: int = 1812
    acct_port: int = 1813


@dataclass(frozen=True)
class RadiusNas:
    """One RADIUS-mode router of a tenant: requests from ``address`` are that tenant's."""

    router_id: int
    router_name: str
    address: str
    secret: str | None  # None: the sealed secret could not be revealed


@dataclass(frozen=True)
class RadiusTenant:
    slug: str
    schema: str
    nas: tuple[RadiusNas, ...] = ()

    @property
    def sql_instance(self) -> str:
        return "sql_" + self.schema.removeprefix(SCHEMA_PREFIX)

    @property
    def server(self) -> str:
        return self.schema


@dataclass(frozen=True)
class SkippedNas:
    """A router left out of clients.conf, and why (the operator must fix its address)."""

    tenant: str
    router_name: str
    address: str
    reason: str


@dataclass(frozen=True)
class RadiusConfig:
    files: Mapping[str, str]
    skipped: tuple[SkippedNas, ...] = field(default=())


# --- loading from the database ------------------------------------------------------------------------------


async def load_tenants(conn: Connection, reveal: Reveal) -> list[RadiusTenant]:
    """Every tenant whose schema has the RADIUS tables, with its RADIUS-mode routers (secrets revealed)."""
    tenants = []
    for tenant_id, slug, schema in await queries.tenant_schemas(conn):
        if not await queries.has_radius_tables(conn, schema):
            continue  # not migrated to 0012 yet: `ispb tenants migrate` first
        nas = tuple(
            RadiusNas(r["id"], r["name"], r["address"], _reveal(reveal, r["radius_secret_sealed"], tenant_id, r["id"]))
            for r in await queries.radius_routers(conn, schema)
        )
        tenants.append(RadiusTenant(slug, schema, nas))
    return tenants


def _reveal(reveal: Reveal, sealed: str, tenant_id: int, router_id: int) -> str | None:
    try:
        return reveal(sealed, Binding(tenant_id, Purpose.ROUTER_RADIUS_SECRET, router_id))
    except ValueError:  # secrets_box.SealError: sealed with another key, or damaged
        return None


# --- rendering ----------------------------------------------------------------------------------------------


def quote(value: str) -> str:
    """A FreeRADIUS configuration string that means exactly ``value``.

    Single quotes, because FreeRADIUS expands ``${...}`` in double-quoted strings. Inside them a backslash is
    an escape only before a quote (checked against FreeRADIUS 3.2), so ``\\'`` and a trailing backslash
    cannot be written at all: such values are refused.
    """
    if any(ord(c) < 32 for c in value) or "\\'" in value or value.endswith("\\"):
        raise RadiusConfigError(
            "control characters, a backslash before a quote, or a trailing backslash cannot be written into "
            "the FreeRADIUS configuration"
        )
    return "'" + value.replace("'", "\\'") + "'"


def _libpq(value: str) -> str:
    if "'" in value or "\\" in value:
        raise RadiusConfigError("the database user, password or name for FreeRADIUS must not contain ' or \\")
    return f"'{value}'"


def conninfo(database_url: str, schema: str) -> str:
    """A libpq connection string for ``database_url`` whose sessions see only ``schema``.

    >>> conninfo("postgresql://radius:pw@db:5432/ispb", "tenant_a")
    "host='db' port='5432' user='radius' password='pw' dbname='ispb' options='-c search_path=tenant_a'"
    """
    url = urlsplit(database_url)
    if url.scheme not in ("postgresql", "postgres"):
        raise RadiusConfigError("the database URL must start with postgresql://")
    params = {
        "host": url.hostname or "",
        "port": str(url.port or ""),
        "user": unquote(url.username or ""),
        "password": unquote(url.password or ""),
        "dbname": unquote(url.path.lstrip("/")),
    }
    params.update(parse_qsl(url.query))
    params["options"] = f"-c search_path={schema}"
    return " ".join(f"{key}={_libpq(value)}" for key, value in params.items() if value)


def _clients(tenants: Iterable[RadiusTenant]) -> tuple[str, tuple[SkippedNas, ...]]:
    claims: dict[str, list[tuple[RadiusTenant, RadiusNas]]] = {}
    for tenant in tenants:
        for nas in tenant.nas:
            claims.setdefault(nas.address, []).append((tenant, nas))
    blocks, skipped = [], []
    for address, claimants in claims.items():
        if len(claimants) > 1:
            # Never guess which tenant a shared address belongs to: leave every claimant out.
            names = ", ".join(f"{t.slug}/{n.router_name}" for t, n in claimants)
            reason = f"NAS address {address} is used by {names}; give each router its own address"
            skipped += [SkippedNas(t.slug, n.router_name, address, reason) for t, n in claimants]
            continue
        tenant, nas = claimants[0]
        try:
            blocks.append(_client(tenant, nas))
        except RadiusConfigError as error:
            skipped.append(SkippedNas(tenant.slug, nas.router_name, address, f"its RADIUS secret: {error}"))
    header = "# Generated by `ispb radius config`: one client per RADIUS-mode router. Do not edit.\n\n"
    return header + "\n".join(blocks), tuple(skipped)


def _client(tenant: RadiusTenant, nas: RadiusNas) -> str:
    if nas.secret is None:
        raise RadiusConfigError("it cannot be revealed (sealed with another ISPB_SECRET_KEY?); set it again")
    return (
        f"client {tenant.schema}_router_{nas.router_id} {{\n"
        f"\tipaddr = {nas.address}\n"
        f"\tsecret = {quote(nas.secret)}\n"
        f"\tshortname = {quote(nas.router_name)}\n"
        "\tnas_type = other\n"
        f"\tvirtual_server = {tenant.server}\n"
        "}\n"
    )


_TABLES = {
    "acct_table1": "radacct",
    "acct_table2": "radacct",
    "postauth_table": "radpostauth",
    "authcheck_table": "radcheck",
    "groupcheck_table": "radgroupcheck",
    "authreply_table": "radreply",
    "groupreply_table": "radgroupreply",
    "usergroup_table": "radusergroup",
    "client_table": "nas",
}


def _sql_instance(tenant: RadiusTenant, database_url: str) -> str:
    tables = "".join(f"\t{key} = {quote(tenant.schema + '.' + table)}\n" for key, table in _TABLES.items())
    return (
        f"sql {tenant.sql_instance} {{\n"
        '\tdialect = "postgresql"\n'
        '\tdriver = "rlm_sql_postgresql"\n'
        "\tpostgresql {\n\t\tsend_application_name = yes\n\t}\n"
        f"\tradius_db = {quote(conninfo(database_url, tenant.schema))}\n"
        f"{tables}"
        # each instance registers its own group attribute (the stock queries.conf refers to it)
        f"\tgroup_attribute = {quote(tenant.sql_instance + '-SQL-Group')}\n"
        "\tread_clients = no\n"
        "\tdelete_stale_sessions = yes\n"
        # Many tenants, one server: connections open on demand and close when idle. `max` is one per FreeRADIUS
        # thread, as in the stock module: rlm_sql does not wait for a busy pool, it fails the request ("No
        # connections available"), so a smaller pool drops accounting in a burst (a NAS reboot) that the
        # threads could serve (tests/bench/radius_accounting.py lost packets with 8).
        "\tpool {\n\t\tstart = 0\n\t\tmin = 0\n\t\tspare = 1\n\t\tmax = ${thread[pool].max_servers}\n\t\tuses = 0\n"
        "\t\tretry_delay = 30\n\t\tlifetime = 0\n\t\tidle_timeout = 60\n\t}\n"
        # our queries (queries.conf in this package): stock authorization, our accounting and post-auth
        "\t$INCLUDE ${modconfdir}/ispb/queries.conf\n"
        "}\n"
    )


def _server(tenant: RadiusTenant) -> str:
    sql = tenant.sql_instance
    return f"""server {tenant.server} {{
	authorize {{
		filter_username
		chap
		mschap
		{sql}
		pap
	}}
	authenticate {{
		Auth-Type PAP {{
			pap
		}}
		Auth-Type CHAP {{
			chap
		}}
		Auth-Type MS-CHAP {{
			mschap
		}}
	}}
	preacct {{
		acct_unique
	}}
	accounting {{
		{sql}
		# nothing to change (a duplicate, an Interim-Update for a closed session, Accounting-On with no open
		# session) is still an answer: without it the NAS retransmits for ever. A failed query stays a failure.
		if (noop) {{
			ok
		}}
	}}
	session {{
		{sql}
	}}
	post-auth {{
		{sql}
		Post-Auth-Type REJECT {{
			{sql}
			attr_filter.access_reject
		}}
	}}
}}
"""


def _listeners(listen: Listen) -> str:
    # Requests land here and are handed to the virtual server named by their client; a request from an
    # unknown address is dropped by FreeRADIUS before any server runs.
    return f"""server ispb {{
	listen {{
		type = auth
		ipaddr = {listen.address}
		port = {listen.auth_port}
	}}
	listen {{
		type = acct
		ipaddr = {listen.address}
		port = {listen.acct_port}
	}}
	authorize {{
		reject
	}}
	preacct {{
		ok
	}}
	accounting {{
		ok
	}}
}}
"""


def render(tenants: Iterable[RadiusTenant], *, database_url: str, listen: Listen = Listen()) -> RadiusConfig:
    """The configuration files for ``tenants`` (pure: no I/O)."""
    tenants = list(tenants)
    clients, skipped = _clients(tenants)
    header = "# Generated by `ispb radius config` (docs/radius.md). Do not edit: regenerate.\n\n"
    modules = header + "\n".join(_sql_instance(t, database_url) for t in tenants)
    sites = header + _listeners(listen) + "".join("\n" + _server(t) for t in tenants)
    queries = files("ispb_platform.network.radius").joinpath("freeradius/queries.conf").read_text(encoding="utf-8")
    return RadiusConfig(
        {CLIENTS_FILE: clients, MODULES_FILE: modules, QUERIES_FILE: queries, SITES_FILE: sites}, skipped
    )


def write(config: RadiusConfig, out_dir: Path) -> list[Path]:
    """Write the files under ``out_dir``: readable by their owner and ``out_dir``'s group only (they hold secrets).

    The group matters: Debian's /etc/freeradius/3.0 belongs to group ``freerad``, and FreeRADIUS re-reads its
    configuration on reload as that user. Files written by root with root's group would start the server
    (it reads as root before dropping privileges) and then fail the first reload ("Permission denied").
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    group = out_dir.stat().st_gid
    written = []
    for relative in config.files:
        path = out_dir / relative
        for parent in reversed(path.relative_to(out_dir).parents[:-1]):
            folder = out_dir / parent
            if not folder.exists():
                folder.mkdir(mode=0o750)
                _give_group(folder, group)
        tmp = path.with_name(path.name + ".tmp")
        tmp.touch(mode=0o640)
        _give_group(tmp, group)
        tmp.write_text(config.files[relative], encoding="utf-8")
        tmp.replace(path)  # atomic: a reloading FreeRADIUS never reads half a file
        written.append(path)
    return written


def _give_group(path: Path, group: int) -> None:
    if path.stat().st_gid == group:
        return
    try:
        os.chown(path, -1, group)
    except PermissionError as error:
        raise RadiusConfigError(
            f"cannot give {path} the group of its directory (gid {group}), which FreeRADIUS reads it as: run as "
            "root or as a member of that group"
        ) from error


async def generate(
    conn: Connection, out_dir: Path, *, database_url: str, reveal: Reveal, listen: Listen = Listen()
) -> RadiusConfig:
    """Load every tenant, render and write the configuration into ``out_dir``."""
    config = render(await load_tenants(conn, reveal), database_url=database_url, listen=listen)
    write(config, out_dir)
    return config
