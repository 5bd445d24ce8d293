"""Customers: the operator's subscribers. List, search, create, edit, disable, CSV import."""
