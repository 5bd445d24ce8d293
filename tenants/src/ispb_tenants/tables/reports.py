"""Report tables of every tenant schema (migration 0019): month and year figures precomputed by the report jobs
(``ispb_platform.reports``) so the Overview reads a few small rows, never the bills of 100k customers."""

from piccolo.columns import BigInt, Date, ForeignKey, Integer, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.tenant import Customer


class ReportMonth(Table, tablename="report_month"):
    """Bills, credit notes, payments, new customers and suspensions of one calendar month (its first day)."""

    month = Date(primary_key=True)
    invoices = Integer(default=0)
    billed_minor = BigInt(default=0)
    credit_notes = Integer(default=0)
    credited_minor = BigInt(default=0)
    payments = Integer(default=0)
    paid_minor = BigInt(default=0)
    new_customers = Integer(default=0)
    suspensions = Integer(default=0)
    refreshed_at = Timestamptz(default=TimestamptzNow())


class ReportCustomerMonth(Table, tablename="report_customer_month"):
    """Customers by status at the month's last snapshot (``taken_on``)."""

    month = Date(primary_key=True)
    taken_on = Date()
    active = Integer()
    suspended = Integer()
    disabled = Integer()
    refreshed_at = Timestamptz(default=TimestamptzNow())


class ReportYear(Table, tablename="report_year"):
    """The sums of a calendar year's months."""

    year = Integer(primary_key=True)
    invoices = Integer(default=0)
    billed_minor = BigInt(default=0)
    credited_minor = BigInt(default=0)
    payments = Integer(default=0)
    paid_minor = BigInt(default=0)
    new_customers = Integer(default=0)
    suspensions = Integer(default=0)
    refreshed_at = Timestamptz(default=TimestamptzNow())


class ReportTopOverdue(Table, tablename="report_top_overdue"):
    """The customers owing most on bills past due, by rank."""

    rank = Integer(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    overdue_minor = BigInt()
    overdue_bills = Integer()
    oldest_due = Date()
    refreshed_at = Timestamptz(default=TimestamptzNow())
