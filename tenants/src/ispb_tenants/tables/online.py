"""Online payment tables of every tenant schema (migration 0018): the operator's gateway accounts and the
checkouts customers start. A checkout becomes a ``payment`` once, after server-to-server verification."""

from piccolo.columns import BigInt, BigSerial, Boolean, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.tenant import Customer


class PaymentGateway(Table, tablename="payment_gateway"):
    """One provider account of the operator (bKash, Nagad, SSLCommerz, Stripe); credentials sealed."""

    provider = Text(primary_key=True)
    enabled = Boolean(default=False)
    mode = Text(default="sandbox")
    base_url = Text(default="")
    merchant_id = Text(default="")
    secret_sealed = Text(null=True, default=None, secret=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class OnlinePayment(Table, tablename="online_payment"):
    """A checkout at a gateway: pending until the gateway confirms it (completed), refuses it or it expires."""

    id = BigSerial(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    provider = Text()
    amount_minor = BigInt()
    currency = Text()
    merchant_ref = Text(unique=True)
    gateway_ref = Text(null=True, default=None)
    transaction_id = Text(null=True, default=None)
    status = Text(default="pending")
    payment_id = BigInt(null=True, default=None, unique=True)
    origin = Text()
    last_answer = Text(default="")
    checks = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    checked_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
