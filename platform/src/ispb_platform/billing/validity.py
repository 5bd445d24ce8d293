"""A package's validity and its customer's billing cycle must agree (the rule: ``ispb_billing.validity_mismatch``).

A package valid for a month is billed monthly or daily; a *validity package* (1, 7, 15 days: hotspot and
prepaid plans) is prepaid per validity on a daily billing profile only, each bill covering its validity at its
price. The panel refuses a mismatch where it would be made (a customer's package or billing profile, a profile's
cycle or default flag, a package's validity) and the bill job parks a customer who has one anyway (data from
before the rule, an import): one sentence, here, says what is wrong and what to do, wherever it is shown.
"""

from ispb_billing import Cycle, validity_mismatch


def _days(validity_days: int) -> str:
    return "1 day" if validity_days == 1 else f"{validity_days} days"


def mismatch_reason(*, package: str, validity_days: int, profile: str, cycle: str) -> str | None:
    """What an operator reads when ``package`` cannot be billed by the billing profile ``profile``, or None.

    For "Daily Hotspot 1 Day" (1 day) on "Standard monthly": "Daily Hotspot 1 Day is valid for 1 day, but the
    billing profile Standard monthly bills a month at a time: a validity package is prepaid per validity on a
    daily billing profile. Choose a daily billing profile for the customer, or a monthly package."
    """
    if validity_mismatch(Cycle(cycle), validity_days) is None:
        return None
    return (
        f"{package} is valid for {_days(validity_days)}, but the billing profile {profile} bills a month at a time: "
        "a validity package is prepaid per validity on a daily billing profile. "
        "Choose a daily billing profile for the customer, or a monthly package."
    )
