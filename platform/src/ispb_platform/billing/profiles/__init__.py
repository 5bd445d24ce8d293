"""Billing profiles: how and when a group of customers is billed, reminded and suspended."""
