"""Piccolo table classes for queries. The schema itself comes from ``ispb_tenants.migrations``.

Platform tables name their schema. Tenant tables name none: the tenant transaction's ``SET LOCAL
search_path`` picks the operator's schema (DESIGN 9), so one class serves every tenant and foreign-key joins
stay inside the same schema.

Every table of the migrated schemas has a class here, with the same columns, types and nullability:
tests/integration/test_migrations.py compares them (the few tables deliberately left out are listed there).
Keys the database numbers are `Serial`/`BigSerial`, so a Piccolo insert leaves them to the sequence.
"""

from ispb_tenants.tables.billing import (
    Bill,
    BillAdjustment,
    BillingParked,
    BillLine,
    CustomerAccount,
    CustomerDiscount,
    DomainEvent,
    InvoiceCounter,
    Payment,
    PaymentAllocation,
    PaymentImport,
    PaymentImportLine,
)
from ispb_tenants.tables.columns import Inet
from ispb_tenants.tables.notify import (
    NotifyEvent,
    NotifyGateway,
    NotifyRule,
    NotifySchedule,
    NotifyTemplate,
    OtpCode,
    Outbox,
)
from ispb_tenants.tables.olt import Olt, Onu, OnuReading, OnuSettings
from ispb_tenants.tables.platform import AuthThrottle, JobRun, PlatformUser, StaffInvitation, Tenant, WebSession
from ispb_tenants.tables.radius import (
    CustomerTrafficTotal,
    CustomerUsageDaily,
    NasReload,
    RadAcct,
    RadAcctKey,
    RadCheck,
    RadGroupCheck,
    RadGroupReply,
    RadPostAuth,
    RadReply,
    RadUserGroup,
)
from ispb_tenants.tables.service import Router, RouterCommand, SuspensionLog
from ispb_tenants.tables.tenant import ActivityLog, BillingProfile, Customer, Package

PLATFORM_TABLES = (Tenant, PlatformUser, StaffInvitation, JobRun, WebSession, AuthThrottle)
TENANT_TABLES = (
    Package,
    BillingProfile,
    Customer,
    ActivityLog,
    CustomerAccount,
    InvoiceCounter,
    Bill,
    BillLine,
    Payment,
    PaymentAllocation,
    PaymentImport,
    PaymentImportLine,
    CustomerDiscount,
    BillAdjustment,
    BillingParked,
    DomainEvent,
    Router,
    SuspensionLog,
    RouterCommand,
    RadAcct,
    RadAcctKey,
    CustomerUsageDaily,
    CustomerTrafficTotal,
    RadCheck,
    RadGroupCheck,
    RadGroupReply,
    RadReply,
    RadUserGroup,
    RadPostAuth,
    NasReload,
    NotifyGateway,
    NotifyTemplate,
    NotifyEvent,
    NotifyRule,
    NotifySchedule,
    Outbox,
    OtpCode,
    Olt,
    Onu,
    OnuReading,
    OnuSettings,
)
ALL_TABLES = PLATFORM_TABLES + TENANT_TABLES

__all__ = (
    "ALL_TABLES",
    "PLATFORM_TABLES",
    "TENANT_TABLES",
    "Inet",
    "ActivityLog",
    "Bill",
    "BillAdjustment",
    "BillLine",
    "BillingParked",
    "CustomerAccount",
    "CustomerDiscount",
    "DomainEvent",
    "InvoiceCounter",
    "Payment",
    "PaymentAllocation",
    "PaymentImport",
    "PaymentImportLine",
    "AuthThrottle",
    "BillingProfile",
    "Customer",
    "JobRun",
    "NotifyEvent",
    "NotifyGateway",
    "NotifyRule",
    "NotifySchedule",
    "NotifyTemplate",
    "Olt",
    "Onu",
    "OnuReading",
    "OnuSettings",
    "OtpCode",
    "Outbox",
    "Package",
    "PlatformUser",
    "NasReload",
    "RadAcct",
    "RadAcctKey",
    "CustomerUsageDaily",
    "CustomerTrafficTotal",
    "RadCheck",
    "RadGroupCheck",
    "RadGroupReply",
    "RadPostAuth",
    "RadReply",
    "RadUserGroup",
    "Router",
    "RouterCommand",
    "StaffInvitation",
    "SuspensionLog",
    "Tenant",
    "WebSession",
)
