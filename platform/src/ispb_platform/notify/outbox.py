"""The outbox: every message is a row, keyed by its cause, written in the transaction of that cause.

The key (``due:<bill>:<offset>``, ``event:<id>``, ``expiry:...``, ``otp:<id>``) makes a message exist once per
cause: a rerun of a reminder job, or the same event seen twice, adds nothing (``ON CONFLICT DO NOTHING``).

A message that carries a secret (the welcome SMS's PPPoE password, a sign-in code) is stored twice: ``body``,
shown in Sent Messages and on the customer page, has the secret masked (`MASK`); ``text_sealed`` holds the text
the gateway gets, sealed for the tenant and the row's key (the key is the row's stable identity, known before
the insert, which may find the row already there). The sender opens it at send time (``notify/sender.py``).
"""

from dataclasses import dataclass

from ispb_notify import Channel, InvalidPhoneNumber, count_sms, normalise_msisdn
from ispb_platform.secrets_box import Binding, Purpose, seal
from ispb_tenants import Connection

MASK = "••••••"
"""What a secret reads as wherever a stored message is shown."""


@dataclass(frozen=True)
class PrivateText:
    """The text the gateway gets when ``body`` masks a secret, and how to seal it."""

    text: str
    secret_key: str
    tenant_id: int


def outbox_binding(tenant_id: int, key: str) -> Binding:
    return Binding(tenant_id, Purpose.OUTBOX_TEXT, key)


async def enqueue(
    connection: Connection,
    *,
    key: str,
    customer_id: int | None,
    channel: Channel,
    to: str,
    body: str,
    cause: str,
    private: PrivateText | None = None,
) -> int | None:
    """Queue one message; returns its id, or None when a message with this key already exists or the number
    cannot receive messages (a customer with a mistyped phone must not block everyone else's messages).

    ``body`` is what is shown; ``private``, when given, what is sent (sealed; segments are counted on it).
    """
    try:
        address = normalise_msisdn(to)
    except InvalidPhoneNumber:
        return None
    sent = private.text if private is not None else body
    sealed = (
        seal(private.secret_key, private.text, outbox_binding(private.tenant_id, key)) if private is not None else None
    )
    segments = count_sms(sent).segments if channel is Channel.SMS else 1
    message_id = await connection.fetchval(
        "INSERT INTO outbox (key, customer_id, channel, to_address, body, text_sealed, segments, cause)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING RETURNING id",
        key,
        customer_id,
        channel.value,
        address,
        body,
        sealed,
        max(segments, 1),
        cause,
    )
    return int(message_id) if message_id is not None else None
