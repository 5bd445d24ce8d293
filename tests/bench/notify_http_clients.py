"""Benchmark: ispb-notify's own `HttpClient` against aiohttp, delivering the same SMS to the same gateway peer.

Run:  uv run --with aiohttp python tests/bench/notify_http_clients.py [--client own|aiohttp|aiohttp-raw|all]
      [--messages 20000] [--parallel 50]

The question of issue 11: should ispb-notify drop its own HTTP/1.1 client for aiohttp? The gateway peer
(tests/peers/sms_gateway.py, a real keep-alive HTTP/1.1 server like Kannel) runs in its own process, as in
``notify_reminders.py``; this process sends ``--messages`` Kannel-style GET requests (``to``, ``text``,
``ref``), ``--parallel`` at a time (the sender's PARALLEL), through:

- ``own``: `HttpSmsGateway` over one `HttpClient(max_connections=parallel)`, as ``notify.send_outbox`` does;
- ``aiohttp``: the same `HttpSmsGateway` over one aiohttp ``ClientSession`` with
  ``TCPConnector(limit_per_host=parallel)`` (keep-alive) behind the client's ``request`` (`AiohttpClient`):
  what replacing the own client would be, the gateway's own work (text, placeholders, answer) the same;
- ``aiohttp-raw``: the session alone with the same request and success check, no gateway code: aiohttp's
  floor, for reference.

Only the sending is timed (the database part of ``notify_reminders.py`` is the same for every client). Prints
messages per second and this process's CPU per message. The rule: aiohttp replaces the own client if it
delivers at least 70 % of its rate and over 1,000 messages/s (``own`` against ``aiohttp``).
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from common import Figure, report

from ispb_notify import HttpClient, HttpResponse, HttpSmsConfig, HttpSmsGateway, OutboundPolicy, OutgoingMessage

TESTS = Path(__file__).resolve().parents[1]
PEER = """
import asyncio, signal, sys
sys.path.insert(0, sys.argv[1])
from peers.sms_gateway import SmsGatewayPeer

async def main():
    async with SmsGatewayPeer() as peer:
        print(peer.url, flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        print(len(peer.messages), flush=True)

asyncio.run(main())
"""
TEXT = "Dear customer, your bill of 1,050.00 BDT is due on 2026-11-08. Pay by bKash to 01711000000. Thank you."

Send = Callable[[int], Awaitable[None]]


async def _timed(count: int, parallel: int, send: Send) -> tuple[float, float]:
    gate = asyncio.Semaphore(parallel)

    async def one(n: int) -> None:
        async with gate:
            await send(n)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - wall, time.process_time() - cpu


class AiohttpClient:
    """`HttpClient.request` over one aiohttp session: what the gateways would call if aiohttp replaced it."""

    def __init__(self, parallel: int = 50, *, max_connections: int = 0, **ignored: Any) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        connector = aiohttp.TCPConnector(limit_per_host=max_connections or parallel, keepalive_timeout=5)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        )

    async def request(
        self, method: str, url: str, *, seconds: float, params: Any = None, headers: Any = None, **body: Any
    ) -> HttpResponse:
        timeout = self._aiohttp.ClientTimeout(total=seconds)
        async with self._session.request(
            method, url, params=params, headers=headers, allow_redirects=False, timeout=timeout
        ) as answer:
            content = await answer.read()
            found = {name.lower(): value for name, value in answer.headers.items()}
            return HttpResponse(answer.status, answer.reason or "", found, content)

    async def aclose(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> "AiohttpClient":
        return self

    async def __aexit__(self, *exception: object) -> None:
        await self.aclose()


async def _via_gateway(url: str, count: int, parallel: int, client: Any) -> tuple[float, float]:
    config = HttpSmsConfig(url, params={"to": "{to}", "text": "{text}", "ref": "{ref}"}, success_pattern="Accepted")
    gateway = HttpSmsGateway(config, client=cast(HttpClient, client))

    async def send(n: int) -> None:
        await gateway.send(OutgoingMessage(f"0171{n:07d}", TEXT, reference=f"{id(client)}-{n}"))

    try:
        return await _timed(count, parallel, send)
    finally:
        await client.aclose()


async def own(url: str, count: int, parallel: int) -> tuple[float, float]:
    policy = OutboundPolicy.parse("127.0.0.1")  # the peer is on loopback
    return await _via_gateway(url, count, parallel, HttpClient(max_connections=parallel, policy=policy))


async def aiohttp_gateway(url: str, count: int, parallel: int) -> tuple[float, float]:
    return await _via_gateway(url, count, parallel, AiohttpClient(parallel))


async def aiohttp_client(url: str, count: int, parallel: int) -> tuple[float, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit_per_host=parallel, keepalive_timeout=5)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:

        async def send(n: int) -> None:
            params = {"to": f"880171{n:07d}", "text": TEXT, "ref": f"aiohttp-{n}"}
            async with session.get(url, params=params, allow_redirects=False) as response:
                body = await response.text()
                if not 200 <= response.status < 300 or "Accepted" not in body:
                    raise RuntimeError(f"gateway answered {response.status}: {body[:80]}")

        return await _timed(count, parallel, send)


async def main(client: str, count: int, parallel: int) -> None:
    peer = await asyncio.create_subprocess_exec(sys.executable, "-c", PEER, str(TESTS), stdout=asyncio.subprocess.PIPE)
    assert peer.stdout is not None
    url = (await peer.stdout.readline()).decode().strip()
    runs = {"own": own, "aiohttp": aiohttp_gateway, "aiohttp-raw": aiohttp_client}
    names = list(runs) if client == "all" else [client]
    try:
        rates = {}
        for name in names:
            await runs[name](url, min(count, 2000), parallel)  # warm-up: connections, caches
            wall, cpu = await runs[name](url, count, parallel)
            rates[name] = count / wall
            rate, per_message = count / wall, cpu / count * 1e6
            print(f"{name:11s} {count:7d} messages in {wall:6.2f} s: {rate:7,.0f} msg/s, CPU {per_message:4.0f} µs/msg")
            size = f"{count:,} messages, {parallel} at a time"
            report(Figure(f"SMS over HTTP, {name} client", size, rate, "msg/s", goal_above=1000))
        if "own" in rates and "aiohttp" in rates:
            share = rates["aiohttp"] / rates["own"]
            verdict = "replace" if share >= 0.7 and rates["aiohttp"] > 1000 else "keep the own client"
            print(f"aiohttp delivers {share:.0%} of the own client's rate: {verdict}")
    finally:
        peer.terminate()
        received = int((await peer.stdout.read()).decode().split()[0])
        await peer.wait()
    sent = len(names) * (min(count, 2000) + count)
    assert received == sent, f"the gateway received {received} of {sent} messages"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--client", choices=("own", "aiohttp", "aiohttp-raw", "all"), default="all")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--parallel", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.client, arguments.messages, arguments.parallel))
