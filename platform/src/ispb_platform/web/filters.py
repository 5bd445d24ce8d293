"""Jinja filters shared by every page: money from minor units in the tenant's currency, rates from basis points."""

from litestar.plugins.jinja import JinjaTemplateEngine

from ispb_billing import Money, format_money, format_percent
from ispb_platform.network.routers.results import describe_result


def money(minor: int | None, currency: str, *, symbol: bool = False) -> str:
    """``{{ bill.total_minor | money(currency) }}`` → ``1,23,456.50`` (grouping and decimals per currency)."""
    if minor is None:
        return "—"
    return format_money(Money(int(minor), currency), symbol=symbol)


_UNITS = ("B", "KB", "MB", "GB", "TB")


def octets(count: int | None) -> str:
    """``{{ usage.download_octets | octets }}`` → ``1.25 GB`` (binary units, as routers count data; integers
    only, truncated to hundredths).

    >>> octets(0), octets(1536), octets(5 * 1024**3 + 1024**3 // 4), octets(1023)
    ('0 B', '1.5 KB', '5.25 GB', '1023 B')
    """
    if count is None:
        return "—"
    value, exponent = int(count), 0
    while exponent < len(_UNITS) - 1 and value >= 1024 ** (exponent + 1):
        exponent += 1
    if exponent == 0:
        return f"{value} B"
    hundredths = value * 100 // 1024**exponent
    return f"{hundredths // 100}.{hundredths % 100:02d}".rstrip("0").rstrip(".") + f" {_UNITS[exponent]}"


def register_filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = money
    engine.engine.filters["percent"] = format_percent  # basis points: 1500 → "15%"
    engine.engine.filters["octets"] = octets
    engine.engine.filters["router_result"] = describe_result  # a router command's result in words
