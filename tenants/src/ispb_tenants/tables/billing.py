"""Billing tables of every tenant schema (migration 0003): bills, payments, allocations, the ledger.

Money columns are ``*_minor`` integers in the tenant's currency. The database enforces what must never happen
(an edited issued bill, a second bill for a period, a changed ledger entry); see the migration.
"""

from piccolo.columns import JSONB, BigInt, BigSerial, Date, ForeignKey, Integer, Text, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.tenant import Customer, Package


class CustomerAccount(Table, tablename="customer_account"):
    """A customer's billing state: the bill job's cursor and the ledger balance cache (narrow, updated often)."""

    customer = ForeignKey(Customer, db_column_name="customer_id", primary_key=True, null=False)
    billed_through = Date(null=True, default=None)
    balance_minor = BigInt(default=0)
    """Debits − credits: positive means the customer owes, negative is advance credit."""


class InvoiceCounter(Table, tablename="invoice_counter"):
    """Gap-free number per series (``INV``, ``CN``) and year; the row is locked by the issuing transaction."""

    series = Text(primary_key=True)
    year = Integer()
    last_number = Integer()


class Bill(Table, tablename="bill"):
    """An invoice or a credit note. Immutable once issued, except its paid amount and status."""

    id = BigSerial(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    kind = Text(default="invoice")
    number = Text(unique=True)
    period_start = Date()
    period_end = Date()
    issue_date = Date()
    due_date = Date()
    currency = Text()
    net_minor = BigInt()
    vat_minor = BigInt()
    total_minor = BigInt()
    paid_minor = BigInt(default=0)
    status = Text(default="open")
    package = ForeignKey(Package, db_column_name="package_id", null=True)
    package_name = Text(default="")
    prorata = Text(default="none")
    reverses_bill_id = BigInt(null=True, default=None)
    note = Text(default="")
    created_by = Text(default="system")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class BillLine(Table, tablename="bill_line"):
    """Primary key (bill_id, position); Piccolo's single key is bill_id here, enough for reading lines."""

    bill_id = BigInt(primary_key=True)
    position = Integer()
    kind = Text()
    description = Text()
    net_minor = BigInt()
    vat_rate_bp = Integer()
    vat_minor = BigInt()


class Payment(Table, tablename="payment"):
    id = BigSerial(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    received_on = Date()
    amount_minor = BigInt()
    currency = Text()
    method = Text()
    reference = Text(default="")
    note = Text(default="")
    received_by = Text()
    unapplied_minor = BigInt()
    """Not allocated to any bill: advance credit."""
    created_at = Timestamptz(default=TimestamptzNow())


class PaymentAllocation(Table, tablename="payment_allocation"):
    id = BigSerial(primary_key=True)
    bill_id = BigInt()
    payment_id = BigInt(null=True, default=None)
    credit_note_id = BigInt(null=True, default=None)
    amount_minor = BigInt()
    source = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    released_at = Timestamptz(null=True, default=None)


class CustomerDiscount(Table, tablename="customer_discount"):
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    label = Text()
    percent_bp = Integer(null=True, default=None)
    amount_minor = BigInt(null=True, default=None)
    starts = Date(null=True, default=None)
    ends = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class BillAdjustment(Table, tablename="bill_adjustment"):
    id = BigSerial(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    description = Text()
    amount_minor = BigInt()
    vat_rate_bp = Integer(default=0)
    kind = Text(default="adjustment")
    billed_bill_id = BigInt(null=True, default=None)
    created_by = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class BillingParked(Table, tablename="billing_parked"):
    id = BigSerial(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    period_start = Date()
    reason = Text()
    parked_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)


class DomainEvent(Table, tablename="domain_event"):
    id = BigSerial(primary_key=True)
    name = Text()
    customer = ForeignKey(Customer, db_column_name="customer_id", null=True)
    payload = JSONB(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    notified_at = Timestamptz(null=True, default=None)
    """When the notify job turned the event into messages (migration 0006)."""


class PaymentImport(Table, tablename="payment_import"):
    """An uploaded bank or mobile-money statement (migrations 0009, 0021): previewed, confirmed by a job, once."""

    id = BigSerial(primary_key=True)
    file_name = Text()
    file_sha256 = Text()
    default_method = Text()
    default_date = Date()
    currency = Text()
    status = Text(default="preview")
    lines = Integer(default=0)
    ready = Integer(default=0)
    duplicate = Integer(default=0)
    unknown_customer = Integer(default=0)
    invalid = Integer(default=0)
    ready_minor = BigInt(default=0)
    recorded = Integer(default=0)
    recorded_minor = BigInt(default=0)
    header = Text(default="")
    ignored_columns = Text(default="")
    uploaded_by = Text()
    uploaded_at = Timestamptz(default=TimestamptzNow())
    confirmed_by = Text(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    confirm_requested_by = Text(null=True, default=None)
    confirm_requested_at = Timestamptz(null=True, default=None)
    recorded_through = Integer(default=0)
    """Confirmation (migration 0021): the customers up to this id have this import's payments recorded."""
    reactivated = Integer(default=0)


class PaymentImportLine(Table, tablename="payment_import_line"):
    """One line of a statement with its verdict; the key is (import_id, line)."""

    import_id = BigInt(primary_key=True)
    line = Integer()
    original = Text()
    """The line as the file had it (re-written as CSV)."""
    customer_code = Text(default="")
    customer_phone = Text(default="")
    customer_id = Integer(null=True, default=None)
    amount_minor = BigInt(null=True, default=None)
    reference = Text(default="")
    reference_key = Text(default="")
    received_on = Date(null=True, default=None)
    method = Text(null=True, default=None)
    status = Text()
    problem = Text(default="")
