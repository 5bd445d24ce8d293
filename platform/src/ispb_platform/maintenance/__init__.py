"""Housekeeping that keeps the platform small and fast: log purges, old data clean-up."""
