"""Tables of every tenant schema. No ``schema=``: the tenant transaction's search_path chooses it."""

from enum import StrEnum

from piccolo.columns import JSONB, BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ServiceType(StrEnum):
    PPPOE = "pppoe"
    HOTSPOT = "hotspot"
    STATIC = "static"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DISABLED = "disabled"


class Package(Table, tablename="package"):
    """A master package: what a customer buys (speed, price, validity)."""

    name = Text(unique=True)
    service_type = Text(default=ServiceType.PPPOE.value)
    price_minor = BigInt()
    download_kbps = Integer()
    upload_kbps = Integer()
    validity_days = Integer(default=30)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Customer(Table, tablename="customer"):
    code = Text(unique=True)
    name = Text()
    phone = Text()
    email = Text(null=True, default=None)
    address = Text(default="")
    area = Text(default="")
    package = ForeignKey(Package, db_column_name="package_id", null=True)
    status = Text(default=CustomerStatus.ACTIVE.value)
    pppoe_username = Text(null=True, default=None, unique=True)
    connection_date = Date(default=DateNow())
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ActivityLog(Table, tablename="activity_log"):
    at = Timestamptz(default=TimestamptzNow())
    actor = Text()
    actor_user_id = Integer(null=True, default=None)
    action = Text()
    object_type = Text(default="")
    object_id = Text(default="")
    summary = Text(default="")
    details = JSONB(default="{}")
    ip = Text(null=True, default=None)
