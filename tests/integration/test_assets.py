"""Response headers that make pages light on a phone: compressed HTML, CSS and JS; static files under hashed
names cached for a year; pages themselves never stored (issue 13)."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ispb_platform.web import assets

IMMUTABLE = "public, max-age=31536000, immutable"


def _static_links(html: str) -> dict[str, str]:
    """``{"ispb.css": "/static/ispb.<hash>.css", ...}`` from a page's head."""
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    found = {}
    for link in links:
        match = re.fullmatch(r"/static/(.+)\.([0-9a-f]{10})\.([a-z0-9]+)", link)
        assert match, f"{link} carries no content hash"
        found[f"{match[1]}.{match[3]}"] = link
    return found


@pytest.mark.parametrize(
    ("accepted", "encoding"),
    [("gzip, deflate, br, zstd", "br"), ("gzip, deflate", "gzip"), ("identity", None)],
)
async def test_pages_are_compressed_and_not_stored(
    make_client: Callable[..., httpx.AsyncClient], accepted: str, encoding: str | None
):
    """Brotli where the browser takes it (every current one), gzip for the others, plain for a client that
    asks for neither. (Litestar looks for the names only: it ignores ``q=0``, which no browser sends.)"""
    async with make_client() as client:
        page = await client.get("/login", headers={"Accept-Encoding": accepted})
    assert page.status_code == 200
    assert page.headers.get("content-encoding") == encoding
    if encoding:
        assert "accept-encoding" in page.headers["vary"].lower()  # a shared cache must not mix the encodings
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "<form" in page.text  # httpx undid the compression: the body is the page


async def test_static_files_have_hashed_names_and_are_cached_for_a_year(
    make_client: Callable[..., httpx.AsyncClient],
):
    async with make_client() as client:
        links = _static_links((await client.get("/login")).text)
        assert {"ispb.css", "htmx.min.js", "ispb.js", "favicon.svg"} <= links.keys()
        for name, link in links.items():
            answer = await client.get(link, headers={"Accept-Encoding": "gzip"})
            assert answer.status_code == 200, link
            assert answer.headers["cache-control"] == IMMUTABLE, link
            assert answer.content == (assets.STATIC_DIR / name).read_bytes()
        htmx = await client.get(links["htmx.min.js"], headers={"Accept-Encoding": "gzip"})
        assert htmx.headers["content-encoding"] == "gzip"
        assert htmx.headers["content-type"].startswith(("text/javascript", "application/javascript"))
        assert int(htmx.headers["content-length"]) < 25_000  # 52 KB on the wire before
        brotli = await client.get(links["htmx.min.js"], headers={"Accept-Encoding": "br, gzip"})
        assert brotli.headers["content-encoding"] == "br" and brotli.headers["cache-control"] == IMMUTABLE
        assert int(brotli.headers["content-length"]) < int(htmx.headers["content-length"])
        assert brotli.content == htmx.content == (assets.STATIC_DIR / "htmx.min.js").read_bytes()
        css = await client.get(links["ispb.css"], headers={"Accept-Encoding": "gzip"})
        assert css.headers["content-encoding"] == "gzip" and css.headers["content-type"].startswith("text/css")
        plain = await client.get("/static/ispb.css")  # the unhashed name still works, but is revalidated
        assert plain.status_code == 200 and plain.headers["cache-control"] == "public, no-cache"
        for bad in ("/static/ispb.0000000000.css", "/static/nothing.css", "/static/..%2Fassets.py"):
            assert (await client.get(bad)).status_code == 404, bad


async def test_a_changed_file_gets_a_new_url(
    make_client: Callable[..., httpx.AsyncClient], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "static"
    shutil.copytree(assets.STATIC_DIR, folder)
    monkeypatch.setattr(assets.STATIC, "folder", folder)
    assets.STATIC.forget()
    try:
        async with make_client() as client:
            before = _static_links((await client.get("/login")).text)
            (folder / "ispb.css").write_text((folder / "ispb.css").read_text() + "\n.changed { color: red; }\n")
            assets.STATIC.forget()  # what a deploy's new process does
            after = _static_links((await client.get("/login")).text)
            assert after["ispb.css"] != before["ispb.css"]
            assert after["htmx.min.js"] == before["htmx.min.js"]  # unchanged files keep their URL (and cache)
            fresh = await client.get(after["ispb.css"])
            assert fresh.status_code == 200 and b".changed" in fresh.content
            assert fresh.headers["cache-control"] == IMMUTABLE
            assert (await client.get(before["ispb.css"])).status_code == 404  # the old bytes are gone
    finally:
        monkeypatch.undo()
        assets.STATIC.forget()


async def test_favicon_ico_leads_to_the_icon(make_client: Callable[..., httpx.AsyncClient]) -> None:
    """Pages that name no icon (a gateway's result page in some browsers, a PDF) make browsers ask for it."""
    async with make_client() as client:
        answer = await client.get("/favicon.ico")
        assert answer.status_code == 302 and answer.headers["location"] == assets.static_url("favicon.svg")
        icon = await client.get(answer.headers["location"])
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
