"""``ispb web`` and ``ispb worker`` as real processes: health, the front page, and jobs run by the worker."""

import asyncio
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ispb_platform.jobs.queue import make_queue
from ispb_tenants import Database
from processes import ispb_environment

ISPB = str(Path(sys.executable).parent / "ispb")


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return ispb_environment(database_url, ISPB_SECRET_KEY="w" * 40, **extra)


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGINT, then the process must be gone within 30 s; a stuck one is killed (so it cannot leak into later
    tests) and its output, with the stack dump of ``ispb worker``'s shutdown deadline, is the failure."""
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"the process did not stop within 30 s after SIGINT:\n{output}") from None
    assert process.returncode == 0, output
    return output


def _wait(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    for _ in range(300):
        assert process.poll() is None, process.communicate()[0]
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.fixture(name="web")
def fx_web(database_url: str, loopback_port: int, request: pytest.FixtureRequest) -> Iterator[str]:
    extra = getattr(request, "param", {})
    process = subprocess.Popen(
        [ISPB, "web", "--port", str(loopback_port)],
        env=_env(database_url, **extra),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{loopback_port}"
    _wait(url + "/healthz", process)
    yield url
    _stop(process)


def test_healthz_is_ok_with_database_and_queue(web: str):
    answer = httpx.get(web + "/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok" and body["checks"]["queue"]["status"] == "ok"
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("web", [{"ISPB_REDIS_URL": "redis://127.0.0.1:1/0"}], indirect=True)
def test_healthz_reports_a_queue_that_is_down(web: str):
    answer = httpx.get(web + "/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "fail" and body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["queue"] == {"status": "fail", "backend": "redis", "error": body["checks"]["queue"]["error"]}
    assert "Connect" in body["checks"]["queue"]["error"]


def test_front_page_is_the_sign_in_page_and_names_no_operator(web: str, database_url: str):
    slug = f"front-{secrets.token_hex(3)}"
    subprocess.run(
        [ISPB, "tenants", "create", slug, "--name", "Front Page Net"],
        env=_env(database_url),
        check=True,
        capture_output=True,
    )
    try:
        page = httpx.get(web + "/")
        assert page.status_code == 200 and 'action="/login"' in page.text and 'action="/portal"' in page.text
        assert "Front Page Net" not in page.text and slug not in page.text
        assert "PostgreSQL" not in page.text and "Redis" not in page.text
        assert httpx.get(web + "/static/ispb.css").status_code == 200
    finally:
        subprocess.run(
            [ISPB, "tenants", "drop", slug, "--yes"], env=_env(database_url), check=True, capture_output=True
        )


@pytest.mark.parametrize("backend", ["postgres", "redis"])
async def test_worker_process_runs_queued_heartbeat_and_stops_cleanly(
    db: Database, database_url: str, backend: str, request: pytest.FixtureRequest
):
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    name = f"test-{secrets.token_hex(4)}"
    extra = {"ISPB_QUEUE_NAME": name} | ({"ISPB_REDIS_URL": redis_url} if redis_url else {})
    process = subprocess.Popen(  # noqa: ASYNC220 (spawning returns at once; waiting runs in a thread)
        [ISPB, "worker", "--concurrency", "2"],
        env=_env(database_url, **extra),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    queue = make_queue(redis_url, database_url, name=name)
    await queue.connect()
    try:
        key = f"process-{secrets.token_hex(4)}"
        # One attempt only: the worker's start-up sweep must not abort a job it is dequeuing (SAQ's Redis sweeper
        # did, tobymao/saq#277: "aborted, swept, progress 1.0" here under load; jobs/queue.py SafeSweepRedisQueue).
        job = await queue.enqueue("cron.system.heartbeat", key=key, timeout=60, retries=1)
        assert job is not None
        for _ in range(600):
            await job.refresh()
            if job.completed:
                break
            await asyncio.sleep(0.05)
        assert job.completed and job.error is None, job.error
        assert (job.status, job.attempts) == ("complete", 1)
        status = await db.fetchval("SELECT status FROM platform.job_run WHERE id = $1", job.result["run_id"])
        assert status == "succeeded"
    finally:
        await queue.disconnect()
        output = await asyncio.to_thread(_stop, process)
    assert "worker started" in output and "Traceback" not in output
