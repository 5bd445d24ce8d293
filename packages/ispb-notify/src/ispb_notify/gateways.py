"""The gateway port: one protocol for SMS and WhatsApp, typed errors that say whether to retry, phone numbers.

The platform's sender job (``notify.send_outbox``) holds a `Gateway` and does not care which one: it calls
``send``, records the `SendResult` on the outbox row, and on a `GatewayError` looks at ``retryable``: a
rejected message (bad number, wrong credentials) is marked failed with the gateway's words, an unavailable
or rate-limited gateway is retried later with backoff (``retry_after`` when the gateway said how long).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

__all__ = (
    "Channel",
    "Gateway",
    "GatewayError",
    "GatewayRateLimited",
    "GatewayRejected",
    "GatewayUnavailable",
    "InvalidPhoneNumber",
    "MemoryGateway",
    "OutgoingMessage",
    "SendResult",
    "normalise_msisdn",
)


class Channel(StrEnum):
    """How a message reaches the customer."""

    SMS = "sms"
    WHATSAPP = "whatsapp"


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to send. WhatsApp needs an approved template (``template_name`` with ``template_params``) to
    start a conversation; ``text`` is what SMS sends and what WhatsApp sends inside an open conversation.
    ``reference`` identifies the message to the gateway (the ``{ref}`` placeholder of an HTTP SMS gateway): the
    same message sent again carries the same reference, so a de-duplicating gateway delivers it once."""

    to: str
    text: str
    channel: Channel = Channel.SMS
    template_name: str | None = None
    template_language: str = "en"
    template_params: tuple[str, ...] = ()
    reference: str = ""


@dataclass(frozen=True)
class SendResult:
    """The gateway accepted the message: its id (when it gives one) and its answer, kept for support."""

    provider_message_id: str | None
    raw: str


class GatewayError(Exception):
    """The gateway did not take the message; ``retryable`` says whether trying again later can help.

    ``str(error)`` is the message for the operator; ``raw`` is the gateway's answer as received.
    """

    retryable: bool = False

    def __init__(self, message: str, *, raw: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.raw = raw


class GatewayRejected(GatewayError):
    """Permanent: the gateway refused this message (bad number, no credit, wrong credentials). Do not retry."""

    retryable = False


class GatewayUnavailable(GatewayError):
    """Temporary: the gateway did not answer, timed out or failed (HTTP 5xx). Retry with backoff."""

    retryable = True


class GatewayRateLimited(GatewayError):
    """Temporary: too many messages; ``retry_after`` seconds is the gateway's hint when it gave one."""

    retryable = True

    def __init__(self, message: str, *, raw: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, raw=raw)
        self.retry_after = retry_after


class Gateway(Protocol):
    """Anything that can send an `OutgoingMessage`: `HttpSmsGateway`, `WhatsAppCloudGateway`, `MemoryGateway`."""

    async def send(self, message: OutgoingMessage) -> SendResult: ...


class InvalidPhoneNumber(ValueError):
    """A phone number that cannot be turned into international digits."""


def normalise_msisdn(phone: str, default_country: str = "880") -> str:
    """International digits without ``+`` (the form gateways want), from what people type.

    ``+`` or ``00`` starts an international number; a leading ``0`` is the national trunk prefix of
    ``default_country``; a number without either is taken as national. Spaces, dashes, dots and brackets are
    ignored and Bangla digits are read. Foreign numbers must be written with ``+`` or ``00``.

    >>> [normalise_msisdn(p) for p in ("+8801711000000", "01711000000", "01711-000 000", "০১৭১১০০০০০০")]
    ['8801711000000', '8801711000000', '8801711000000', '8801711000000']
    >>> normalise_msisdn("+44 7911 123456")
    '447911123456'
    """
    cleaned = "".join(c for c in phone.strip() if c not in " -.()/\u00a0")
    international = cleaned.startswith("+")
    digits = cleaned.removeprefix("+")
    if not digits or not digits.isdecimal():
        raise InvalidPhoneNumber(f"{phone!r} is not a phone number")
    digits = "".join(str(int(c)) for c in digits)  # Bangla (and other) decimal digits to ASCII
    if not international:
        if digits.startswith("00"):
            digits = digits[2:]
        elif not (digits.startswith(default_country) and len(digits) > 10):  # already international
            digits = default_country + digits.removeprefix("0")
    if not 8 <= len(digits) <= 15:
        raise InvalidPhoneNumber(f"{phone!r} is not a phone number (international numbers have 8 to 15 digits)")
    return digits


@dataclass
class MemoryGateway:
    """A gateway for tests that keeps what it is sent; ``failures`` are raised first, one per send.

    >>> import asyncio
    >>> gateway = MemoryGateway(failures=[GatewayUnavailable("down")])
    >>> try:
    ...     asyncio.run(gateway.send(OutgoingMessage("01711000000", "hello")))
    ... except GatewayUnavailable:
    ...     pass
    >>> asyncio.run(gateway.send(OutgoingMessage("01711000000", "hello")))
    SendResult(provider_message_id='memory-1', raw='accepted')
    >>> [message.text for message in gateway.sent]
    ['hello']
    """

    sent: list[OutgoingMessage] = field(default_factory=list)
    failures: Sequence[GatewayError] = ()
    _failed: int = field(default=0, init=False, repr=False)

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self._failed < len(self.failures):
            self._failed += 1
            raise self.failures[self._failed - 1]
        self.sent.append(message)
        return SendResult(f"memory-{len(self.sent)}", "accepted")
