"""Notification tables of every tenant schema (migration 0006): gateway, templates, events, rules, outbox."""

from piccolo.columns import JSONB, BigSerial, Boolean, ForeignKey, Integer, Text, Time, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from ispb_tenants.tables.tenant import Customer


class NotifyGateway(Table, tablename="notify_gateway"):
    channel = Text(primary_key=True)
    kind = Text()
    config = JSONB(default="{}")
    secret_sealed = Text(null=True, default=None, secret=True)
    enabled = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class NotifyTemplate(Table, tablename="notify_template"):
    key = Text(primary_key=True)
    body = Text()
    updated_at = Timestamptz(default=TimestamptzNow())


class NotifyEvent(Table, tablename="notify_event"):
    event = Text(primary_key=True)
    enabled = Boolean(default=False)
    channel = Text(default="sms")


class NotifyRule(Table, tablename="notify_rule"):
    kind = Text()
    offset_days = Integer(default=0)
    before_hours = Integer(default=0)
    enabled = Boolean(default=True)


class NotifySchedule(Table, tablename="notify_schedule"):
    """One row (``id`` 1): when reminders go out, in the operator's time zone."""

    id = Integer(primary_key=True, default=1)
    send_time = Time()
    channel = Text(default="sms")


class Outbox(Table, tablename="outbox"):
    id = BigSerial(primary_key=True)
    key = Text(unique=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=True)
    channel = Text()
    to_address = Text()
    body = Text()
    text_sealed = Text(null=True, default=None, secret=True)
    segments = Integer()
    cause = Text()
    status = Text(default="queued")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    claimed_at = Timestamptz(null=True, default=None)
    credit_taken = Boolean(default=False)
    last_error = Text(default="")
    provider_message_id = Text(null=True, default=None)
    gateway_reply = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class OtpCode(Table, tablename="otp_code"):
    """A portal sign-in code: only its hash is stored."""

    id = BigSerial(primary_key=True)
    customer = ForeignKey(Customer, db_column_name="customer_id", null=False)
    code_hash = Text(secret=True)
    expires_at = Timestamptz()
    attempts = Integer(default=0)
    used_at = Timestamptz(null=True, default=None)
    ip = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
