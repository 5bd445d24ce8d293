"""Log levels: ISPB's own messages at ``ISPB_LOG_LEVEL``; libraries' per-job chatter only at ``debug``.

SAQ logs several INFO lines for every job it touches (enqueuing, scheduling, processing, finishing, sweeping),
a dozen a minute with the schedule's minute jobs, so a console at ``info`` scrolled past the demo's own
messages. At ``info`` and above those loggers show warnings and errors only; each job run that did something
(or failed) is one line of ``ispb_platform.jobs.runs`` instead. ``ISPB_LOG_LEVEL=debug`` shows everything.
"""

import logging

CHATTY = ("saq",)
"""Loggers whose INFO lines are per-job bookkeeping, not news."""


def logger_levels(level: str) -> dict[str, str]:
    """The level of each chatty logger for ``level`` (``ISPB_LOG_LEVEL``)."""
    upper = level.upper()
    quiet = upper if logging.getLevelName(upper) >= logging.WARNING else "WARNING"
    return {name: "DEBUG" if upper == "DEBUG" else quiet for name in CHATTY}


def apply_log_level(level: str) -> None:
    """The root logger at ``level``, the chatty ones as `logger_levels` says (handlers are not touched)."""
    logging.getLogger().setLevel(level.upper())
    for name, name_level in logger_levels(level).items():
        logging.getLogger(name).setLevel(name_level)
