"""Scheduled and event-driven jobs: the registry (the schedule), run records, fan-out and the SAQ worker."""
