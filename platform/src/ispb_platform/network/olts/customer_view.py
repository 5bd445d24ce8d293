"""A customer's ONU as the customer page and the portal show it (in the caller's tenant scope)."""

from enum import StrEnum
from typing import Any

from ispb_platform.network.olts import queries


class Signal(StrEnum):
    """What the portal tells the customer: plain words, no dBm."""

    GOOD = "good"
    WEAK = "weak"
    NONE = "none"


def signal_of(onu: dict[str, Any]) -> Signal:
    """``none`` for an ONU that is down, gone from its OLT or without a reading; ``weak`` below the operator's
    threshold (``problem`` from `queries.problems_first`); else ``good``."""
    if onu["problem"] == "down" or onu["rx_dbm"] is None:
        return Signal.NONE
    return Signal.WEAK if onu["problem"] == "weak" else Signal.GOOD


async def customer_onus(customer_id: int) -> list[dict[str, Any]]:
    """The customer's ONUs (usually one), problems first."""
    return await queries.onus_of_customer(customer_id)


async def portal_signal(customer_id: int) -> Signal | None:
    """The customer's signal, from their most recently seen ONU; None without an ONU."""
    onus = await queries.onus_of_customer(customer_id)
    if not onus:
        return None
    return signal_of(max(onus, key=lambda onu: onu["last_seen_at"]))
