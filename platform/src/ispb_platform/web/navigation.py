"""The operator panel's navigation, in the product description's words (spec: automation.md)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    admin_only: bool = False  # hidden from operator staff (their requests get 403 anyway)


@dataclass(frozen=True)
class NavSection:
    label: str
    items: tuple[NavItem, ...]


PANEL_NAV: tuple[NavSection, ...] = (
    NavSection("Dashboard", (NavItem("Overview", "/panel/"),)),
    NavSection(
        "Customers",
        (
            NavItem("Customers", "/panel/customers"),
            NavItem("Online", "/panel/customers/online"),
            NavItem("Import CSV", "/panel/customers/import"),
        ),
    ),
    NavSection(
        "Bills and Payments",
        (
            NavItem("Customer Bills", "/panel/bills"),
            NavItem("Import payments", "/panel/payments/import"),
            NavItem("Online payments", "/panel/payments/online"),
            NavItem("Payment Gateways", "/panel/payments/gateways"),
            NavItem("Billing Profile", "/panel/billing-profiles"),
        ),
    ),
    NavSection(
        "SMS and Notifications",
        (
            NavItem("Due Date Notifier", "/panel/notifications/due-date"),
            NavItem("Expiration Notifier", "/panel/notifications/expiration"),
            NavItem("Event SMS", "/panel/notifications/events"),
            NavItem("SMS Gateway Setup", "/panel/notifications/gateway"),
            NavItem("Sent Messages", "/panel/notifications/sent"),
        ),
    ),
    NavSection(
        "Routers and Packages",
        (
            NavItem("Master Packages", "/panel/packages"),
            NavItem("Routers", "/panel/routers"),
            NavItem("OLTs", "/panel/olts"),
        ),
    ),
    NavSection(
        "Logs",
        (
            NavItem("Suspension Log", "/panel/logs/suspension"),
            NavItem("Activity Log", "/panel/logs/activity"),
            NavItem("NetFlow", "/panel/logs/netflow"),
        ),
    ),
    NavSection(
        "Monitoring",
        (
            NavItem("Dashboard", "/panel/monitoring"),
            NavItem("Status Checks", "/panel/monitoring/checks"),
            NavItem("Status page and Zabbix", "/panel/monitoring/settings", admin_only=True),
        ),
    ),
    NavSection(
        "Settings",
        (
            NavItem("Staff Users", "/panel/staff", admin_only=True),
            NavItem("Subscription", "/panel/subscription"),
            NavItem("Backup Settings", "/panel/settings/backup"),
        ),
    ),
    NavSection("Automation", (NavItem("Scheduled jobs", "/panel/automation"),)),
)
