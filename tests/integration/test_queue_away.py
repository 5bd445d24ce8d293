"""An action that needs the job queue, with Redis away: a clear message on the page, nothing queued, never a 500.

"Run now" (operator Automation and the admin console's Scheduled jobs) puts a job on the queue; with the Redis
queue unreachable it used to raise out of the handler as a 500. The queue here is a Redis queue on a port where
nothing listens (a Redis that is down), swapped into the session's app for this test only.
"""

import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from ispb_platform.jobs.queue import make_queue
from ispb_tenants import TenantRef


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe is: nothing listens there


@pytest.fixture(name="redis_away")
async def fx_redis_away(web_app: Any, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = make_queue(f"redis://127.0.0.1:{_closed_port()}/0", database_url, name="ispb-test-away")
    monkeypatch.setattr(web_app.state.runtime, "queue", queue)


@pytest.mark.usefixtures("redis_away")
async def test_run_now_with_redis_away_says_the_queue_cannot_be_reached(
    make_client: Callable[..., httpx.AsyncClient],
    make_staff: Callable[..., Awaitable[str]],
    make_tenant: Callable[..., Awaitable[TenantRef]],
    sign_in: Callable[..., Awaitable[str]],
):
    tenant = await make_tenant("queue-away")
    client = make_client()
    token = await sign_in(client, await make_staff("operator_admin", tenant))
    answer = await client.post("/panel/automation/run", data={"_csrf_token": token, "job": "notify.send_outbox"})
    assert answer.status_code == 303 and answer.headers["location"] == "/panel/automation"
    page = await client.get("/panel/automation")
    assert page.status_code == 200
    assert "The job queue cannot be reached at the moment, so notify.send_outbox was not queued" in page.text

    admin = make_client()
    token = await sign_in(admin, await make_staff("platform_admin"))
    answer = await admin.post("/admin/jobs/run", data={"_csrf_token": token, "job": "reports.customer_counts"})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/jobs"
    assert "The job queue cannot be reached" in (await admin.get("/admin/jobs")).text
