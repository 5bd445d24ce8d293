"""Monitoring tables (tenant migration 0017; the platform's copies, platform migration 0010): status checks,
incidents, maintenance windows, the status page and Zabbix settings, what the Zabbix sync read.

The platform's monitoring statements are SQL on the search_path (one statement serves an operator's schema and
the platform's); these classes describe the same columns, for the test that compares them with the schema.
"""

from piccolo.columns import JSONB, BigSerial, Boolean, ForeignKey, Integer, Real, SmallInt, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.platform import SCHEMA
from ispb_tenants.tables.service import Router


class StatusCheck(Table, tablename="status_check"):
    """A service the operator watches: what to ask, how, and the tracker of its recent results."""

    name = Text(unique=True)
    public_name = Text(default="")
    kind = Text()
    target = Text()
    port = Integer(null=True, default=None)
    options = JSONB(default="{}")
    secret_sealed = Text(null=True, default=None, secret=True)
    router = ForeignKey(Router, db_column_name="router_id", null=True)
    timeout_s = Integer(default=10)
    confirm_count = Integer(default=2)
    paused = Boolean(default=False)
    shown = Text(null=True, default=None)
    failures = Integer(default=0)
    successes = Integer(default=0)
    failing_since = Timestamptz(null=True, default=None)
    recovering_since = Timestamptz(null=True, default=None)
    last_status = Text(null=True, default=None)
    last_latency_ms = Real(null=True, default=None)
    last_message = Text(default="")
    last_checked_at = Timestamptz(null=True, default=None)
    monitored_since = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StatusIncident(Table, tablename="status_incident"):
    id = BigSerial(primary_key=True)
    check = ForeignKey(StatusCheck, db_column_name="check_id", null=False)
    started_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    cause = Text(default="")


class StatusMaintenance(Table, tablename="status_maintenance"):
    check = ForeignKey(StatusCheck, db_column_name="check_id", null=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    note = Text(default="")


class MonitorSettings(Table, tablename="monitor_settings"):
    id = Integer(primary_key=True, default=1)
    page_enabled = Boolean(default=False)
    page_title = Text(default="")
    zabbix_url = Text(default="")
    zabbix_token_sealed = Text(null=True, default=None, secret=True)
    zabbix_synced_at = Timestamptz(null=True, default=None)
    zabbix_error = Text(default="")


class ZabbixHost(Table, tablename="zabbix_host"):
    hostid = Text(primary_key=True)
    host = Text()
    name = Text()
    enabled = Boolean()
    available = Boolean(null=True, default=None)


class ZabbixProblem(Table, tablename="zabbix_problem"):
    eventid = Text(primary_key=True)
    triggerid = Text()
    name = Text()
    severity = SmallInt()
    acknowledged = Boolean()
    since = Timestamptz()
    hosts = Text(default="")


# --- the platform's own (platform migration 0010) ----------------------------------------------------------------


class PlatformStatusCheck(Table, tablename="status_check", schema=SCHEMA):
    """A platform-wide check (the platform's own services), shown on the platform's status page."""

    name = Text(unique=True)
    public_name = Text(default="")
    kind = Text()
    target = Text()
    port = Integer(null=True, default=None)
    options = JSONB(default="{}")
    secret_sealed = Text(null=True, default=None, secret=True)
    router_id = Integer(null=True, default=None)
    timeout_s = Integer(default=10)
    confirm_count = Integer(default=2)
    paused = Boolean(default=False)
    shown = Text(null=True, default=None)
    failures = Integer(default=0)
    successes = Integer(default=0)
    failing_since = Timestamptz(null=True, default=None)
    recovering_since = Timestamptz(null=True, default=None)
    last_status = Text(null=True, default=None)
    last_latency_ms = Real(null=True, default=None)
    last_message = Text(default="")
    last_checked_at = Timestamptz(null=True, default=None)
    monitored_since = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PlatformStatusIncident(Table, tablename="status_incident", schema=SCHEMA):
    id = BigSerial(primary_key=True)
    check = ForeignKey(PlatformStatusCheck, db_column_name="check_id", null=False)
    started_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    cause = Text(default="")


class PlatformStatusMaintenance(Table, tablename="status_maintenance", schema=SCHEMA):
    check = ForeignKey(PlatformStatusCheck, db_column_name="check_id", null=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    note = Text(default="")


class PlatformMonitorSettings(Table, tablename="monitor_settings", schema=SCHEMA):
    id = Integer(primary_key=True, default=1)
    page_enabled = Boolean(default=False)
    page_title = Text(default="")
    zabbix_url = Text(default="")
    zabbix_token_sealed = Text(null=True, default=None, secret=True)
    zabbix_synced_at = Timestamptz(null=True, default=None)
    zabbix_error = Text(default="")
