"""Service-control tables of every tenant schema (migration 0004): routers, suspension log, router commands."""

from piccolo.columns import JSONB, BigInt, BigSerial, Boolean, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.columns import Inet
from ispb_tenants.tables.tenant import Customer


class Router(Table, tablename="router"):
    """A MikroTik router: API-managed (secrets on the router) or RADIUS-managed (the platform's tables)."""

    name = Text(unique=True)
    host = Text()
    api_port = Integer(default=8728)
    use_tls = Boolean(default=False)
    username = Text()
    password_sealed = Text(secret=True)
    radius_secret_sealed = Text(null=True, default=None, secret=True)
    mode = Text(default="api")
    nas_address = Inet(null=True, default=None)
    coa_port = Integer(default=3799)
    netflow_address = Inet(null=True, default=None)
    """The address the router exports NetFlow from, when neither ``nas_address`` nor ``host`` is it."""
    status = Text(default="unknown")
    identity = Text(default="")
    version = Text(default="")
    last_checked_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SuspensionLog(Table, tablename="suspension_log"):
    id = BigSerial(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    action = Text()
    bill_id = BigInt(null=True, default=None)
    amount_due_minor = BigInt(null=True, default=None)
    rule = Text(default="")
    reason = Text(default="")
    actor = Text()
    at = Timestamptz(default=TimestamptzNow())


class RouterCommand(Table, tablename="router_command"):
    id = BigSerial(primary_key=True)
    router = ForeignKey(Router, db_column_name="router_id", null=False)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=True)
    action = Text()
    payload = JSONB(default="{}")
    status = Text(default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    done_at = Timestamptz(null=True, default=None)
