"""``billing.auto_suspend``: suspend customers whose bills are overdue past their profile's rule.

The decision is ``ispb_billing.decide`` on exact money (open bills, advance credit, grace days or the fixed
suspension day): a customer whose credit covers what is due is never suspended. Each suspension is logged once
per (customer, bill) by a unique index, under a per-tenant advisory lock, so two workers or a rerun suspend and
log each customer once. The router commands then run at once in this job (the minute job is the backstop).
"""

from ispb_billing import SuspensionRule

ACTOR = "system (billing.auto_suspend)"
CHUNK = 200

_CANDIDATES = """
SELECT DISTINCT c.id FROM customer c
JOIN bill b ON b.customer_id = c.id AND b.kind = 'invoice' AND b.status = 'open' AND b.due_date < $1
WHERE c.status = 'active' AND c.id > $2
ORDER BY c.id
LIMIT $3
"""


def describe(rule: SuspensionRule) -> str:
    if rule.fixed_day is not None:
        return f"suspension day {rule.fixed_day} of the month"
    return f"{rule.grace_days} grace days after the due date"
