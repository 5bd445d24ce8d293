"""The embedded PostgreSQL's list of user processes (pgserver's ``.handle_pids.json``): a process that died
without leaving (SIGKILL, a crash) is dropped, so the last live user stops the server again."""

import json
import os
import subprocess
import sys
from pathlib import Path

from ispb_platform.embedded_postgres import _forget_dead_users


def test_dead_users_are_dropped_and_live_ones_kept(tmp_path: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its pid names no process now
    listed = tmp_path / ".handle_pids.json"
    listed.write_text(json.dumps([dead.pid, os.getpid()]))
    _forget_dead_users(tmp_path)
    assert json.loads(listed.read_text()) == [os.getpid()]


def test_a_missing_or_unreadable_list_is_left_alone(tmp_path: Path):
    _forget_dead_users(tmp_path)  # no list yet: a first start
    assert not (tmp_path / ".handle_pids.json").exists()
    (tmp_path / ".handle_pids.json").write_text("not json")
    _forget_dead_users(tmp_path)
    assert (tmp_path / ".handle_pids.json").read_text() == "not json"
