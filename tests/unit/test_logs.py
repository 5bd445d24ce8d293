"""Log levels per ``ISPB_LOG_LEVEL``: SAQ's per-job lines only at debug (``ispb_platform/logs.py``)."""

from ispb_platform.logs import logger_levels


def test_saq_shows_warnings_and_errors_by_default_and_everything_at_debug() -> None:
    assert logger_levels("info") == {"saq": "WARNING"}
    assert logger_levels("warning") == {"saq": "WARNING"}
    assert logger_levels("error") == {"saq": "ERROR"}
    assert logger_levels("debug") == {"saq": "DEBUG"}
