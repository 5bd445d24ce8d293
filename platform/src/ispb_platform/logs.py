"""Log levels: ISPB's own messages at ``ISPB_LOG_LEVEL``; libraries' per-job chatter only at ``debug``.

SAQ logs several INFO lines for every job it touches (enqueuing, scheduling, processing, finishing, sweeping),
a dozen a minute with the schedule's minute jobs, so a console at ``info`` scrolled past the demo's own
messages. At ``info`` and above those loggers show warnings and errors only; each job run that did something
(or failed) is one line of ``ispb_platform.jobs.runs`` instead. ``ISPB_LOG_LEVEL=debug`` shows everything.
"""

import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path

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


LOG_FILE = re.compile(r"(?P<name>[a-z]+)-(?P<day>\d{4}-\d{2}-\d{2})\.log")
"""``<command>-<UTC date>.log`` under ``ISPB_DATA_DIR/logs`` (``ISPB_LOG_TO_FILES``)."""


class DailyLogFile(logging.FileHandler):
    """Appends to ``<directory>/<name>-<UTC date>.log``, a new file each day.

    Several processes (web nodes, workers) append to the same day's file: O_APPEND writes of a line do not
    interleave, and no process ever renames a file another one writes (which rotation by renaming would do).
    ``maintenance.clear_app_logs`` removes the days past retention.
    """

    def __init__(self, directory: Path, name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._directory, self._name = directory, name
        self._day = datetime.now(UTC).date()
        super().__init__(self._path(self._day), mode="a", encoding="utf-8", delay=True)

    def _path(self, day: date) -> Path:
        return self._directory / f"{self._name}-{day.isoformat()}.log"

    def emit(self, record: logging.LogRecord) -> None:
        day = datetime.fromtimestamp(record.created, UTC).date()
        if day != self._day:
            self.acquire()
            try:
                if self.stream is not None:
                    self.stream.close()
                    self.stream = None  # FileHandler reopens it on the next emit
                self._day, self.baseFilename = day, str(self._path(day))
            finally:
                self.release()
        super().emit(record)


def old_log_files(directory: Path, before: date) -> list[Path]:
    """The daily log files of days before ``before``."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = LOG_FILE.fullmatch(path.name)
        if match and date.fromisoformat(match.group("day")) < before:
            found.append(path)
    return found
