"""OLTs, their ONUs, ONU readings and the operator's ONU settings (migration 0016; ``netsync.olt_sync``)."""

from decimal import Decimal

from piccolo.columns import BigInt, BigSerial, Integer, Numeric, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Olt(Table, tablename="olt"):
    """An OLT polled over SNMP; credentials sealed (``community_sealed``, ``v3_*_key_sealed``)."""

    name = Text(unique=True)
    host = Text()
    snmp_port = Integer(default=161)
    snmp_version = Text(default="v2c")
    community_sealed = Text(null=True, default=None, secret=True)
    v3_username = Text(default="")
    v3_auth_protocol = Text(default="SHA")
    v3_auth_key_sealed = Text(null=True, default=None, secret=True)
    v3_priv_protocol = Text(default="AES")
    v3_priv_key_sealed = Text(null=True, default=None, secret=True)
    v3_context = Text(default="")
    """SNMPv3 context name; empty on most OLTs."""
    vendor = Text()
    site = Text(default="")
    status = Text(default="unknown")
    sys_descr = Text(default="")
    onu_count = Integer(default=0)
    garbled = Integer(default=0)
    failures = Integer(default=0)
    last_sync_at = Timestamptz(null=True, default=None)
    last_success_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Onu(Table, tablename="onu"):
    """An ONU (serial or MAC) on an OLT; ``mapping`` says how it got its customer (none, auto, manual)."""

    id = BigSerial(primary_key=True)
    olt_id = Integer()
    serial = Text()
    port = Text()
    onu_index = Integer()
    status = Text()
    rx_dbm = Numeric(digits=(5, 2), null=True, default=None)
    tx_dbm = Numeric(digits=(5, 2), null=True, default=None)
    distance_m = Integer(null=True, default=None)
    description = Text(default="")
    last_change_at = Timestamptz(null=True, default=None)
    first_seen_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    online_at = Timestamptz(null=True, default=None)
    missing_since = Timestamptz(null=True, default=None)
    history_at = Timestamptz(null=True, default=None)
    customer_id = Integer(null=True, default=None)
    mapping = Text(default="none")


class OnuReading(Table, tablename="onu_reading"):
    id = BigSerial(primary_key=True)
    onu_id = BigInt()
    at = Timestamptz()
    status = Text()
    rx_dbm = Numeric(digits=(5, 2), null=True, default=None)
    tx_dbm = Numeric(digits=(5, 2), null=True, default=None)


class OnuSettings(Table, tablename="onu_settings"):
    id = Integer(primary_key=True, default=1)
    rx_threshold_dbm = Numeric(digits=(5, 2), default=Decimal(-27))
    match_onu_field = Text(default="description")
    match_customer_field = Text(default="code")
