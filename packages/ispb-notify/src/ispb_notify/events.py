"""The event catalogue: what can trigger a message, which variables each provides, and the default texts.

An operator edits the text for each event in the panel; the panel checks it against the variables that event
provides (``check_template(source, TEMPLATE_VARIABLES[key])``), so a payment template cannot use ``otp`` and
fail at send time. The defaults are short English GSM-7 texts of one segment, to be replaced by each operator
(most will write Bangla).
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = ("DEFAULT_TEMPLATES", "EVENT_VARIABLES", "TEMPLATE_VARIABLES", "Event")


class Event(StrEnum):
    """Something that happened to a customer and may send a message; the value is the template key."""

    CUSTOMER_CREATED = "customer.created"
    PAYMENT_RECEIVED = "payment.received"
    CUSTOMER_ACTIVATED = "customer.activated"
    CUSTOMER_SUSPENDED = "customer.suspended"
    PACKAGE_CHANGED = "package.changed"
    FUP_APPLIED = "customer.fup_applied"
    OTP_REQUESTED = "otp.requested"


# Every customer message can name the customer and say who is writing and how to reach them.
_COMMON = frozenset({"customer_name", "customer_id", "username", "operator_name", "operator_phone", "portal_link"})

EVENT_VARIABLES: Mapping[Event, frozenset[str]] = MappingProxyType(
    {
        # the only message that carries a password: the new account's credentials
        Event.CUSTOMER_CREATED: _COMMON | {"package", "password", "expiry_date"},
        Event.PAYMENT_RECEIVED: _COMMON | {"payment_amount", "balance", "amount_due", "package", "expiry_date"},
        Event.CUSTOMER_ACTIVATED: _COMMON | {"package", "expiry_date"},
        Event.CUSTOMER_SUSPENDED: _COMMON | {"reason", "amount_due", "balance", "package"},
        Event.PACKAGE_CHANGED: _COMMON | {"old_package", "new_package", "package", "expiry_date"},
        Event.FUP_APPLIED: _COMMON | {"package", "fup_speed", "reset_date"},
        Event.OTP_REQUESTED: frozenset({"otp", "customer_name", "customer_id", "username", "operator_name"}),
    }
)

# Variables per template key: the events', plus the two scheduled reminders (rules.py).
TEMPLATE_VARIABLES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        **{event.value: names for event, names in EVENT_VARIABLES.items()},
        "due_date": _COMMON | {"amount_due", "due_date", "balance", "package"},
        "expiration": _COMMON | {"expiry_date", "package", "amount_due", "balance"},
    }
)

DEFAULT_TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        Event.CUSTOMER_CREATED.value: (
            "Welcome {{ customer_name }}! Your {{ package }} account is ready. User: {{ username }}, "
            "password: {{ password }}. {{ operator_name }}"
        ),
        Event.PAYMENT_RECEIVED.value: (
            "Dear {{ customer_name }}, we received {{ payment_amount }}. Balance: {{ balance }}. {{ operator_name }}"
        ),
        Event.CUSTOMER_ACTIVATED.value: (
            "Dear {{ customer_name }}, your {{ package }} service is active until {{ expiry_date }}. "
            "{{ operator_name }}"
        ),
        Event.CUSTOMER_SUSPENDED.value: (
            "Dear {{ customer_name }}, your service is suspended: {{ reason }}. "
            "Call {{ operator_phone }}. {{ operator_name }}"
        ),
        Event.PACKAGE_CHANGED.value: (
            "Dear {{ customer_name }}, your package changed from {{ old_package }} to {{ new_package }}. "
            "{{ operator_name }}"
        ),
        Event.FUP_APPLIED.value: (
            "Dear {{ customer_name }}, you have used this cycle's data of {{ package }}, so your speed is "
            "{{ fup_speed }}. Full speed returns on {{ reset_date }}. {{ operator_name }}"
        ),
        Event.OTP_REQUESTED.value: "Your {{ operator_name }} code is {{ otp }}. It expires in 5 minutes.",
        "due_date": (
            "Dear {{ customer_name }}, your bill of {{ amount_due }} is due on {{ due_date }}. {{ operator_name }}"
        ),
        "expiration": (
            "Dear {{ customer_name }}, your {{ package }} service expires on {{ expiry_date }}. "
            "Please pay to stay connected. {{ operator_name }}"
        ),
    }
)
