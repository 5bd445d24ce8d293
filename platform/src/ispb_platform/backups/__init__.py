"""Backups that restore (issue 19): per-operator and full dumps, sealed, kept by retention, tested weekly."""
