"""Customer notifications for ISPs: templates, reminder rules and SMS/WhatsApp gateway clients.

This package is one of ISPB's independently versioned libraries: it installs and imports on its own,
without the ISPB platform, so other projects can use it directly. The pure parts (templates, segments,
rules, events) do no I/O; the gateways speak HTTP/1.1 through `HttpClient` (keep-alive, TLS, timeouts),
which connects only where its `OutboundPolicy` allows (public addresses unless more are allowed).
See README.md for a worked example.
"""

from importlib.metadata import version as _version

from ispb_notify.events import DEFAULT_TEMPLATES, EVENT_VARIABLES, TEMPLATE_VARIABLES, Event
from ispb_notify.gateways import (
    Channel,
    Gateway,
    GatewayError,
    GatewayRateLimited,
    GatewayRejected,
    GatewayUnavailable,
    InvalidPhoneNumber,
    MemoryGateway,
    OutgoingMessage,
    SendResult,
    normalise_msisdn,
)
from ispb_notify.http_client import HttpClient, HttpProtocolError, HttpResponse, HttpTimeout, HttpTransportError
from ispb_notify.http_sms import PRESETS, HttpSmsConfig, HttpSmsGateway, Preset, preset
from ispb_notify.outbound import Allowance, OutboundPolicy, OutboundRefused
from ispb_notify.rules import (
    BillDue,
    DueDateRule,
    DueMessage,
    Expiring,
    ExpiryMessage,
    ExpiryRule,
    due_date_messages,
    expiration_messages,
    has_amount_due,
)
from ispb_notify.segments import SmsCount, count_sms
from ispb_notify.templates import VARIABLES, TemplateProblem, check_template, render
from ispb_notify.whatsapp import WhatsAppCloudGateway, WhatsAppConfig

__version__ = _version("ispb-notify")

__all__ = (
    "__version__",
    # templates
    "VARIABLES",
    "TemplateProblem",
    "check_template",
    "render",
    # SMS length
    "SmsCount",
    "count_sms",
    # reminder rules
    "BillDue",
    "DueDateRule",
    "DueMessage",
    "due_date_messages",
    "has_amount_due",
    "Expiring",
    "ExpiryRule",
    "ExpiryMessage",
    "expiration_messages",
    # events
    "Event",
    "EVENT_VARIABLES",
    "TEMPLATE_VARIABLES",
    "DEFAULT_TEMPLATES",
    # the gateway port
    "Channel",
    "OutgoingMessage",
    "SendResult",
    "Gateway",
    "GatewayError",
    "GatewayRejected",
    "GatewayUnavailable",
    "GatewayRateLimited",
    "InvalidPhoneNumber",
    "normalise_msisdn",
    "MemoryGateway",
    # gateways
    "HttpSmsConfig",
    "HttpSmsGateway",
    "Preset",
    "PRESETS",
    "preset",
    "WhatsAppConfig",
    "WhatsAppCloudGateway",
    # the HTTP client they share
    "HttpClient",
    "HttpResponse",
    "HttpTransportError",
    "HttpTimeout",
    "HttpProtocolError",
    # where it may connect
    "OutboundPolicy",
    "Allowance",
    "OutboundRefused",
)
