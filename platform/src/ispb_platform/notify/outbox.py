"""The outbox: every message is a row, keyed by its cause, written in the transaction of that cause.

The key (``due:<bill>:<offset>``, ``event:<id>``, ``expiry:...``, ``otp:<id>``) makes a message exist once per
cause: a rerun of a reminder job, or the same event seen twice, adds nothing (``ON CONFLICT DO NOTHING``).
"""

from ispb_notify import Channel, InvalidPhoneNumber, count_sms, normalise_msisdn
from ispb_tenants import Connection


async def enqueue(
    connection: Connection,
    *,
    key: str,
    customer_id: int | None,
    channel: Channel,
    to: str,
    body: str,
    cause: str,
) -> int | None:
    """Queue one message; returns its id, or None when a message with this key already exists or the number
    cannot receive messages (a customer with a mistyped phone must not block everyone else's messages)."""
    try:
        address = normalise_msisdn(to)
    except InvalidPhoneNumber:
        return None
    segments = count_sms(body).segments if channel is Channel.SMS else 1
    message_id = await connection.fetchval(
        "INSERT INTO outbox (key, customer_id, channel, to_address, body, segments, cause)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING RETURNING id",
        key,
        customer_id,
        channel.value,
        address,
        body,
        max(segments, 1),
        cause,
    )
    return int(message_id) if message_id is not None else None
