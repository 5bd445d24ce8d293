"""Platform tables of operator subscriptions (platform migration 0012): plans, tiers, the operator's plan,
customer counts, subscription bills with their lines, payments and checkouts, and SMS usage."""

from decimal import Decimal

from piccolo.columns import BigInt, BigSerial, Boolean, Date, ForeignKey, Integer, Numeric, Serial, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.platform import SCHEMA, Tenant


class SubscriptionSettings(Table, tablename="subscription_settings", schema=SCHEMA):
    """Who issues subscription bills (printed on their PDFs) and the days they fall due and lock a panel."""

    id = Integer(primary_key=True, default=1)
    issuer_name = Text(default="ISPB Platform")
    issuer_address = Text(default="")
    issuer_phone = Text(default="")
    issuer_email = Text(default="")
    currency = Text(default="BDT")
    due_day = Integer(default=10)
    lock_day = Integer(default=20)
    updated_at = Timestamptz(default=TimestamptzNow())


class SubscriptionPlan(Table, tablename="subscription_plan", schema=SCHEMA):
    id = Serial(primary_key=True)
    name = Text(unique=True)
    pricing = Text(default="tier")
    sms_price = Numeric(digits=(12, 4), default=Decimal(0))
    trial_days = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SubscriptionTier(Table, tablename="subscription_tier", schema=SCHEMA):
    id = Serial(primary_key=True)
    plan = ForeignKey(SubscriptionPlan, db_column_name="plan_id", null=False)
    up_to = Integer(null=True, default=None)
    price = Numeric(digits=(14, 4))


class TenantSubscription(Table, tablename="tenant_subscription", schema=SCHEMA):
    id = Serial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False, unique=True)
    plan = ForeignKey(SubscriptionPlan, db_column_name="plan_id", null=False)
    started_on = Date()
    trial_ends_on = Date(null=True, default=None)
    sms_billing = Text(default="prepaid")
    locked_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class CustomerCount(Table, tablename="customer_count", schema=SCHEMA):
    id = BigSerial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    counted_on = Date()
    active = Integer()
    suspended = Integer()
    disabled = Integer()
    counted_at = Timestamptz(default=TimestamptzNow())


class SubscriptionCounter(Table, tablename="subscription_counter", schema=SCHEMA):
    id = Serial(primary_key=True)
    series = Text()
    year = Integer()
    last_number = Integer()


class SubscriptionBill(Table, tablename="subscription_bill", schema=SCHEMA):
    id = BigSerial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    kind = Text()
    number = Text(null=True, default=None, unique=True)
    status = Text()
    period_start = Date()
    period_end = Date()
    issue_date = Date(null=True, default=None)
    due_date = Date(null=True, default=None)
    lock_on = Date(null=True, default=None)
    currency = Text()
    total_minor = BigInt(default=0)
    paid_minor = BigInt(default=0)
    reverses_bill = BigInt(db_column_name="reverses_bill_id", null=True, default=None)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SubscriptionBillLine(Table, tablename="subscription_bill_line", schema=SCHEMA):
    id = BigSerial(primary_key=True)
    bill = BigInt(db_column_name="bill_id")
    description = Text()
    quantity = Numeric(digits=(14, 4))
    unit_price = Numeric(digits=(14, 4))
    amount_minor = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class SubscriptionPayment(Table, tablename="subscription_payment", schema=SCHEMA):
    id = BigSerial(primary_key=True)
    bill = BigInt(db_column_name="bill_id")
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    amount_minor = BigInt()
    currency = Text()
    method = Text()
    reference = Text(default="")
    paid_on = Date()
    recorded_by = Text()
    transaction_id = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SubscriptionCheckout(Table, tablename="subscription_checkout", schema=SCHEMA):
    id = BigSerial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    bill = BigInt(db_column_name="bill_id")
    provider = Text()
    amount_minor = BigInt()
    currency = Text()
    merchant_ref = Text(unique=True)
    gateway_ref = Text(null=True, default=None)
    transaction_id = Text(null=True, default=None)
    status = Text(default="pending")
    started_by = Text()
    last_answer = Text(default="")
    checks = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    checked_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)


class SmsUsage(Table, tablename="sms_usage", schema=SCHEMA):
    id = BigSerial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    outbox_id = BigInt()
    segments = Integer()
    sent_at = Timestamptz()
    billed_as = Text()
    recorded_at = Timestamptz(default=TimestamptzNow())


class SmsUsageCursor(Table, tablename="sms_usage_cursor", schema=SCHEMA):
    id = Serial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False, unique=True)
    scan_from_id = BigInt(default=0)
    scanned_at = Timestamptz(default=TimestamptzNow())


class SmsUsageMonth(Table, tablename="sms_usage_month", schema=SCHEMA):
    id = Serial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    month = Date()
    billed_as = Text()
    messages = Integer(default=0)
    segments = Integer(default=0)


SUBSCRIPTION_TABLES = (
    SubscriptionSettings,
    SubscriptionPlan,
    SubscriptionTier,
    TenantSubscription,
    CustomerCount,
    SubscriptionCounter,
    SubscriptionBill,
    SubscriptionBillLine,
    SubscriptionPayment,
    SubscriptionCheckout,
    SmsUsage,
    SmsUsageCursor,
    SmsUsageMonth,
)
