"""Tables of the ``platform`` schema: operators, platform users, run records."""

from enum import StrEnum

from piccolo.columns import (
    JSONB,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

SCHEMA = "platform"


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class UserRole(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    GROUP_ADMIN = "group_admin"
    OPERATOR_ADMIN = "operator_admin"
    OPERATOR_STAFF = "operator_staff"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Tenant(Table, tablename="tenant", schema=SCHEMA):
    """An ISP operator hosted on the platform, with its own schema."""

    slug = Text(unique=True)
    name = Text()
    status = Text(default=TenantStatus.ACTIVE.value)
    schema_name = Text(unique=True)
    timezone = Text(default="Asia/Dhaka")
    currency = Text(default="BDT")
    activity_log_retention_days = Integer(default=365)
    accounting_retention_months = Integer(default=12)
    """Whole months of RADIUS accounting kept besides the current one (``netsync.radacct_partitions``)."""
    netflow_retention_days = Integer(default=180)
    """Days of NetFlow capture files kept (``maintenance.purge_netflow``)."""
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    address = Text(default="")
    phone = Text(default="")
    email = Text(default="")
    payment_instructions = Text(default="")
    logo = Bytea(null=True, default=None)
    """PNG, JPEG or SVG printed on invoices (at most 256 KiB)."""
    logo_type = Text(null=True, default=None)
    sms_credit = Integer(default=0)
    """SMS segments the operator can still send."""
    sms_low_threshold = Integer(default=100)
    sms_low_alerted_on = Date(null=True, default=None)
    backup_keep_daily = Integer(default=7)
    """Daily customer-data backups kept (``backup.cleanup``); weekly and monthly ones besides."""
    backup_keep_weekly = Integer(default=4)
    backup_keep_monthly = Integer(default=6)
    outbox_retention_days = Integer(default=180)
    """Days sent messages are kept (``maintenance.cleanup_old_data``)."""
    job_run_retention_days = Integer(default=90)
    expired_login_retention_days = Integer(default=7)
    """Days expired sessions, sign-in codes and staff invitations are kept after they expire."""


class PlatformUser(Table, tablename="platform_user", schema=SCHEMA):
    email = Text()
    name = Text()
    password_hash = Text(secret=True)
    role = Text()
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=True)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class StaffInvitation(Table, tablename="staff_invitation", schema=SCHEMA):
    """An invitation to an operator's staff: only the SHA-256 of the link's token is kept (platform migration 0006)."""

    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    email = Text()
    name = Text()
    role = Text()
    token_hash = Text(unique=True, secret=True)
    invited_by = ForeignKey(PlatformUser, db_column_name="invited_by", null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    user = ForeignKey(PlatformUser, db_column_name="user_id", null=True)
    """The account the invitation created."""
    revoked_at = Timestamptz(null=True, default=None)
    """When the operator's admin withdrew it (platform migration 0007); its link stops working."""
    revoked_by = ForeignKey(PlatformUser, db_column_name="revoked_by", null=True)


class JobRun(Table, tablename="job_run", schema=SCHEMA):
    """A run record: one execution of a job, for one tenant or for the platform."""

    id = BigSerial(primary_key=True)

    job = Text()
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=True)
    job_key = Text()
    today = Date()
    trigger = Text()
    status = Text(default=RunStatus.RUNNING.value)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    counts = JSONB(default="{}")
    error = Text(null=True, default=None)
    worker = Text(default="")


class JobRequest(Table, tablename="job_request", schema=SCHEMA):
    """A job a person asked for from a page ("Back up now", "Restore..."), run by a worker; the state the page
    shows (platform migration 0015, ``ispb_platform/jobs/requests.py``)."""

    id = BigSerial(primary_key=True)
    job = Text()
    lane = Text()
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    arguments = JSONB(default="{}")
    requested_by = Text(default="")
    status = Text(default="queued")
    message = Text(default="")
    result = JSONB(default="{}")
    requested_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    worker = Text(default="")


class WebSession(Table, tablename="web_session", schema=SCHEMA):
    """A signed-in browser; ``id`` is the SHA-256 of the cookie token, never the token."""

    id = Text(primary_key=True)
    kind = Text()
    user_id = Integer()
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ip = Text(default="")
    user_agent = Text(default="")
    flash = JSONB(default="[]")  # messages for the next page, shown once (auth/sessions.py)


class AuthThrottle(Table, tablename="auth_throttle", schema=SCHEMA):
    key = Text(primary_key=True)
    failures = Integer(default=0)
    window_started_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)


class PlatformPaymentGateway(Table, tablename="payment_gateway", schema=SCHEMA):
    """The platform's own gateway accounts (operators pay for SMS credit through them)."""

    provider = Text(primary_key=True)
    enabled = Boolean(default=False)
    mode = Text(default="sandbox")
    base_url = Text(default="")
    merchant_id = Text(default="")
    secret_sealed = Text(null=True, default=None, secret=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class SmsCreditPack(Table, tablename="sms_credit_pack", schema=SCHEMA):
    id = Serial(primary_key=True)
    segments = Integer()
    price_minor = BigInt()
    currency = Text(default="BDT")
    active = Boolean(default=True)


class SmsCreditPurchase(Table, tablename="sms_credit_purchase", schema=SCHEMA):
    """An operator's online purchase of SMS credit: credited once, after the gateway confirmed it."""

    id = BigSerial(primary_key=True)
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=False)
    provider = Text()
    segments = Integer()
    amount_minor = BigInt()
    currency = Text()
    merchant_ref = Text(unique=True)
    gateway_ref = Text(null=True, default=None)
    transaction_id = Text(null=True, default=None)
    status = Text(default="pending")
    bought_by = Text()
    last_answer = Text(default="")
    checks = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    checked_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)


class BackupSettings(Table, tablename="backup_settings", schema=SCHEMA):
    """The platform's backup destination and full-backup retention: one row, edited in the admin console."""

    id = Boolean(primary_key=True, default=True)
    destination = Text(default="local")
    s3_endpoint = Text(default="")
    s3_bucket = Text(default="")
    s3_region = Text(default="us-east-1")
    s3_prefix = Text(default="")
    s3_access_key = Text(default="")
    s3_secret_sealed = Text(null=True, default=None, secret=True)
    full_keep_daily = Integer(default=7)
    full_keep_weekly = Integer(default=4)
    full_keep_monthly = Integer(default=6)
    updated_at = Timestamptz(default=TimestamptzNow())


class Backup(Table, tablename="backup", schema=SCHEMA):
    """One backup: an operator's schema or the whole database, where it lies, its figures and restore test."""

    id = BigSerial(primary_key=True)
    kind = Text()
    tenant = ForeignKey(Tenant, db_column_name="tenant_id", null=True)
    tenant_slug = Text(null=True, default=None)
    period = Date()
    trigger = Text()
    destination = Text()
    object_key = Text(unique=True)
    status = Text(default="running")
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    size_bytes = BigInt(null=True, default=None)
    server_major = Integer()
    key_id = Text()
    figures = JSONB(default="{}")
    error = Text(null=True, default=None)
    verified_at = Timestamptz(null=True, default=None)
    verify_ok = Boolean(null=True, default=None)
    verify_detail = Text(null=True, default=None)
