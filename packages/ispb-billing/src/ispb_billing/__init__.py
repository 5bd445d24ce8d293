"""Pure billing rules for ISPs: money, billing cycles, bills, settlement, ledger and dunning decisions.

This package is one of ISPB's independently versioned libraries: it installs and imports on its own,
without the ISPB platform (standard library only, no I/O), so other projects can use it directly.
Give it plain values and `today`; it returns decisions. See README.md for the rules in words.
"""

from importlib.metadata import version as _version

from ispb_billing.bills import (
    MAX_PERIOD_DAYS,
    Adjustment,
    BillDraft,
    BillLine,
    Discount,
    ImplausibleBill,
    LineKind,
    PackageTerms,
    ProrataPolicy,
    compute_bill,
    package_change_adjustments,
)
from ispb_billing.cycles import (
    MONTH_VALIDITY_DAYS,
    Cycle,
    Period,
    daily_period,
    due_period,
    is_validity_package,
    monthly_bill_date,
    monthly_period_containing,
    next_daily_period,
    validity_mismatch,
)
from ispb_billing.dunning import (
    Account,
    AccountStatus,
    DunningDecision,
    SuspensionRule,
    decide,
    decide_all,
)
from ispb_billing.fair_usage import FairUsage, FupAction, Verdict
from ispb_billing.ledger import (
    EntryKind,
    LedgerEntry,
    advance_credit,
    amount_due,
    balance,
)
from ispb_billing.money import (
    CURRENCY_EXPONENTS,
    CURRENCY_SYMBOLS,
    DEFAULT_EXPONENT,
    CurrencyMismatch,
    Money,
    divide_half_away_from_zero,
    exponent,
    format_money,
    sum_money,
)
from ispb_billing.rates import BASIS_POINTS, check_basis_points, format_percent
from ispb_billing.settlement import (
    Allocation,
    Credit,
    CreditAllocation,
    OpenBill,
    Settlement,
    allocate,
    allocate_credits,
    outstanding_after,
)
from ispb_billing.vat import VatSplit, vat_exclusive, vat_inclusive

__version__ = _version("ispb-billing")

__all__ = (
    "__version__",
    # money
    "CURRENCY_EXPONENTS",
    "CURRENCY_SYMBOLS",
    "DEFAULT_EXPONENT",
    "CurrencyMismatch",
    "Money",
    "divide_half_away_from_zero",
    "exponent",
    "format_money",
    "sum_money",
    # rates and VAT
    "BASIS_POINTS",
    "check_basis_points",
    "format_percent",
    "VatSplit",
    "vat_exclusive",
    "vat_inclusive",
    # billing cycles
    "MONTH_VALIDITY_DAYS",
    "Cycle",
    "Period",
    "daily_period",
    "due_period",
    "is_validity_package",
    "monthly_bill_date",
    "monthly_period_containing",
    "next_daily_period",
    "validity_mismatch",
    # bills
    "MAX_PERIOD_DAYS",
    "Adjustment",
    "BillDraft",
    "BillLine",
    "Discount",
    "ImplausibleBill",
    "LineKind",
    "PackageTerms",
    "ProrataPolicy",
    "compute_bill",
    "package_change_adjustments",
    # fair usage
    "FairUsage",
    "FupAction",
    "Verdict",
    # settlement
    "Allocation",
    "Credit",
    "CreditAllocation",
    "OpenBill",
    "Settlement",
    "allocate",
    "allocate_credits",
    "outstanding_after",
    # ledger
    "EntryKind",
    "LedgerEntry",
    "advance_credit",
    "amount_due",
    "balance",
    # dunning
    "Account",
    "AccountStatus",
    "DunningDecision",
    "SuspensionRule",
    "decide",
    "decide_all",
)
