"""Tables of every tenant schema. No ``schema=``: the tenant transaction's search_path chooses it."""

from enum import StrEnum

from piccolo.columns import JSONB, BigInt, BigSerial, Boolean, Date, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.columns import Inet


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
    vat_rate_bp = Integer(default=0)
    """VAT in basis points: 1500 is 15.00 %."""
    vat_inclusive = Boolean(default=False)
    data_allowance_mb = BigInt(null=True, default=None)
    fup_download_kbps = Integer(null=True, default=None)
    fup_upload_kbps = Integer(null=True, default=None)


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    DAILY = "daily"


class BillingProfile(Table, tablename="billing_profile"):
    """How a group of customers is billed: cycle, billing day, due and grace days, auto-suspend/activate."""

    name = Text(unique=True)
    cycle = Text(default=BillingCycle.MONTHLY.value)
    billing_day = Integer(default=1)
    due_days = Integer(default=7)
    grace_days = Integer(default=3)
    auto_suspend = Boolean(default=True)
    auto_activate = Boolean(default=True)
    is_default = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    prorata = Text(default="daily")
    """``none`` or ``daily``: how a partial first period and a mid-cycle package change are charged."""
    suspend_day = Integer(null=True, default=None)
    bill_suspended = Boolean(default=False)


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
    billing_profile = ForeignKey(BillingProfile, db_column_name="billing_profile_id", null=True)
    password_hash = Text(null=True, default=None, secret=True)
    router_id = Integer(null=True, default=None)
    """The router serving this customer (migration 0004)."""
    ip_address = Inet(null=True, default=None)
    """A static address (inet), if any."""
    pppoe_password_sealed = Text(null=True, default=None, secret=True)
    last_address = Inet(null=True, default=None)
    fup_until = Date(null=True, default=None)
    """The day full speed returns for a customer over their fair-usage allowance (migration 0014)."""
    # ``search`` (a generated tsvector) is left out on purpose: Piccolo would try to write it.


class ActivityLog(Table, tablename="activity_log"):
    id = BigSerial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow())
    actor = Text()
    actor_user_id = Integer(null=True, default=None)
    action = Text()
    object_type = Text(default="")
    object_id = Text(default="")
    summary = Text(default="")
    details = JSONB(default="{}")
    ip = Text(null=True, default=None)
