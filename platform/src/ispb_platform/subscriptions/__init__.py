"""Operator subscriptions: the platform bills its own operators (plans, counts, bills, SMS usage, locking)."""
