"""Application log files (``ISPB_LOG_TO_FILES``): a file per command and day, cleared weekly by
``maintenance.clear_app_logs``."""

import logging
from datetime import UTC, datetime, timedelta

from ispb_platform.jobs.registry import get_job
from ispb_platform.jobs.runs import Trigger, execute
from ispb_platform.logs import DailyLogFile
from ispb_tenants import Database


async def test_clear_app_logs_removes_log_files_older_than_a_week(db: Database, tmp_path):
    """With ``ISPB_LOG_TO_FILES`` each command logs to a file per day; the weekly run clears days past a week."""
    logs = tmp_path / "logs"
    handler = DailyLogFile(logs, "worker")
    handler.emit(logging.LogRecord("ispb", logging.INFO, __file__, 1, "today's line", None, None))
    handler.close()
    today = datetime.now(UTC).date()
    (logs / f"web-{today - timedelta(days=8):%Y-%m-%d}.log").write_text("old\n")
    (logs / f"web-{today - timedelta(days=7):%Y-%m-%d}.log").write_text("a week ago\n")
    (logs / "notes.txt").write_text("not ours\n")
    run = await execute(
        db, get_job("maintenance.clear_app_logs"), tenant=None, trigger=Trigger.MANUAL, key="logs", today=today,
        data_dir=tmp_path,
    )  # fmt: skip
    assert run.counts["log_files_deleted"] == 1
    assert sorted(p.name for p in logs.iterdir()) == sorted(
        ["notes.txt", f"web-{today - timedelta(days=7):%Y-%m-%d}.log", f"worker-{today:%Y-%m-%d}.log"]
    )
    assert "today's line" in (logs / f"worker-{today:%Y-%m-%d}.log").read_text()
