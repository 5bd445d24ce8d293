"""``GET /healthz``: can this node serve? Checks the database and the job queue, each with a timeout."""

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from litestar import Request, get
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from ispb_platform.auth.access import PUBLIC
from ispb_platform.jobs.queue import ping_queue, queue_backend
from ispb_platform.runtime import Runtime

CHECK_TIMEOUT_S = 3.0


async def _check(probe: Awaitable[Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_S)
    except Exception as error:  # any failure of the peer is a failed check, reported by name
        return {"status": "fail", "error": f"{type(error).__name__}: {error}"[:300]}
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}


@get("/healthz", cache=False, include_in_schema=False, opt=PUBLIC)
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    runtime: Runtime = request.app.state.runtime
    database = await _check(runtime.db.fetchval("SELECT 1"))
    queue = await _check(ping_queue(runtime.queue))
    queue["backend"] = queue_backend(runtime.queue)
    ok = database["status"] == queue["status"] == "ok"
    body = {"status": "ok" if ok else "fail", "checks": {"database": database, "queue": queue}}
    return Response(
        body,
        status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Cache-Control": "no-store"},
    )
