"""Browser tests: headless Chromium (the Debian ``chromium`` package) driving a live ``ispb web`` on loopback.

The server is a real subprocess on the session's test database, serving plain HTTP on 127.0.0.1 (so cookies
are not ``Secure``, exactly as in the demo). Each test gets its own browser context (own cookies). Screenshots
go to ``tests/artifacts/<test name>/`` (git-ignored) so a failing run can be looked at.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from ispb_tenants import Database
from processes import ispb_environment

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ISPB = str(Path(sys.executable).parent / "ispb")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # tests may run as root in CI containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


def _chromium() -> str:
    if explicit := os.environ.get("ISPB_CHROMIUM"):
        return explicit
    for name in CHROMIUM_CANDIDATES:
        if found := shutil.which(name):
            return found
    pytest.fail("browser tests need Chromium: apt-get install chromium (or set ISPB_CHROMIUM to its path)")


@pytest.fixture(name="live_server", scope="session")
def fx_live_server(db: Database, database_url: str) -> Iterator[str]:
    """``ispb web`` as a subprocess on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    environment = ispb_environment(
        database_url,
        ISPB_SECRET_KEY="e" * 40,
        ISPB_COOKIE_SECURE="false",
        ISPB_LOG_LEVEL="warning",
        ISPB_OUTBOUND_ALLOW="127.0.0.1",  # the payment gateway peers (test_online_payment_browser.py)
    )
    log = ARTIFACTS / "live-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        server = subprocess.Popen(
            [ISPB, "web", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    # starting takes ~4.5 s of CPU (imports); on a 2-CPU machine running the rest of the suite beside it that
    # was once over 30 s of wall time, so the bound is generous: a server that never comes up still fails
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"ispb web did not become healthy; its output:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(name="browser", scope="session")
async def fx_browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


def _expected(console_error: str) -> bool:
    """Chromium logs every 4xx answer; a 422 is the form-with-errors answer the test provoked on purpose."""
    return console_error.startswith("Failed to load resource") and "status of 422" in console_error


class Shots:
    """Numbered full-page screenshots for one test: ``await shots(page, "signed-in")``."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0

    async def __call__(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(name="shots")
def fx_shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(ARTIFACTS / request.node.name)


@pytest.fixture(name="new_page")
async def fx_new_page(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """``await new_page()``: a page in a fresh context (a different person's browser). Console errors and
    CSP violations fail the test: a page that only works with its errors ignored is broken."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    async def make(width: int = 1280, height: int = 900, *, touch: bool = False) -> Page:
        """``touch``: a phone's browser (touch events for ``tap()``, mobile viewport handling)."""
        context = await browser.new_context(
            base_url=live_server, viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = await context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" and not _expected(m.text) else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    yield make
    failed = request.node.stash.get(FAILED, False)
    for number, context in enumerate(contexts, 1):
        if failed:  # what the browser showed when the test gave up
            for page in context.pages:
                where = ARTIFACTS / request.node.name / f"failed-context{number}.png"
                where.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(where), full_page=True)
        await context.close()
    assert not problems, f"browser console errors: {problems}"
