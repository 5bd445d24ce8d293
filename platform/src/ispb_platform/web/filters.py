"""Jinja filters shared by every page: money from minor units in the tenant's currency, rates from basis points."""

from litestar.plugins.jinja import JinjaTemplateEngine

from ispb_billing import Money, format_money, format_percent


def money(minor: int | None, currency: str, *, symbol: bool = False) -> str:
    """``{{ bill.total_minor | money(currency) }}`` → ``1,23,456.50`` (grouping and decimals per currency)."""
    if minor is None:
        return "—"
    return format_money(Money(int(minor), currency), symbol=symbol)


def register_filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = money
    engine.engine.filters["percent"] = format_percent  # basis points: 1500 → "15%"
