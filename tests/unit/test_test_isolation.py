"""Tests leave a running demo alone: their ``ispb`` processes get this session's settings (tests/processes.py)."""

import os
from pathlib import Path

from processes import DATA_DIR, QUEUE_NAME, ispb_environment

TESTS = Path(__file__).resolve().parents[1]
CHECKOUT = TESTS.parent


def test_an_ispb_process_of_the_tests_has_its_own_data_directory_and_queue_and_no_inherited_settings() -> None:
    environment = ispb_environment("postgresql://db.test/x", ISPB_PORT="1")
    assert {k: v for k, v in environment.items() if k.startswith("ISPB_")} == {
        "ISPB_DATA_DIR": str(DATA_DIR),
        "ISPB_QUEUE_NAME": QUEUE_NAME,
        "ISPB_DATABASE_URL": "postgresql://db.test/x",
        "ISPB_PORT": "1",
    }
    assert not DATA_DIR.is_relative_to(CHECKOUT) and QUEUE_NAME != "ispb"
    # the pytest process itself (commands run in-process) has the same, whatever the shell exported
    assert os.environ["ISPB_DATA_DIR"] == str(DATA_DIR) and os.environ["ISPB_QUEUE_NAME"] == QUEUE_NAME


def test_no_test_builds_an_ispb_environment_by_hand() -> None:
    """Each did once (``os.environ`` minus ``ISPB_*``), and none set a data directory: every ``ispb`` process of
    the tests used ``./var``, the directory of a demo served from the same checkout."""
    by_hand = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name not in ("processes.py", Path(__file__).name) and 'startswith("ISPB_")' in path.read_text()
    ]
    assert by_hand == []
