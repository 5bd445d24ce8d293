"""Static files under names that carry their content's hash, so browsers may keep them for a year.

A page links ``{{ static("ispb.css") }}`` → ``/static/ispb.3f2a9c1b7d.css``. That URL only ever means those bytes,
so it is answered with ``Cache-Control: public, max-age=31536000, immutable`` and a phone downloads htmx once,
not on every page. A changed file gets a new hash, hence a new URL, and the next page load fetches it. The plain
name (``/static/ispb.css``) still answers, revalidated each time (``no-cache``), for links that cannot know the
hash. A hashed name whose hash is not the file's current one is a 404: serving other bytes under it would let a
year-long cache hold the wrong file.

Hashes are computed once per process (the files ship with the code and change only with a deploy); tests that
change a file call ``StaticFiles.forget()``.
"""

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Redirect

from ispb_platform.auth.access import PUBLIC

STATIC_DIR = Path(__file__).parent / "static"
HASH_LENGTH = 10
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
_HASHED = re.compile(rf"^(?P<stem>[A-Za-z0-9_-]+(?:\.min)?)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})\.(?P<ext>[a-z0-9]+)$")


@dataclass
class StaticFiles:
    """The files of one static folder and their content hashes (computed on first use)."""

    folder: Path
    _hashes: dict[str, str] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """The file behind a plain name; a name that leaves the folder or is not a file is a 404."""
        if "/" in name or "\\" in name or name.startswith("."):
            raise NotFoundException()
        path = self.folder / name
        if not path.is_file():
            raise NotFoundException()
        return path

    def digest(self, name: str) -> str:
        if name not in self._hashes:
            self._hashes[name] = hashlib.sha256(self.path(name).read_bytes()).hexdigest()[:HASH_LENGTH]
        return self._hashes[name]

    def url(self, name: str) -> str:
        """``ispb.css`` → ``/static/ispb.<hash>.css`` (the hash goes before the last extension)."""
        stem, dot, ext = name.rpartition(".")
        if not dot:
            raise ValueError(f"static file {name!r} has no extension")
        return f"/static/{stem}.{self.digest(name)}.{ext}"

    def resolve(self, requested: str) -> tuple[Path, str]:
        """The file and the Cache-Control for a requested name, hashed or plain."""
        if match := _HASHED.match(requested):
            name = f"{match['stem']}.{match['ext']}"
            if self.digest(name) != match["hash"]:
                raise NotFoundException()
            return self.path(name), IMMUTABLE
        return self.path(requested), REVALIDATE

    def forget(self) -> None:
        self._hashes.clear()


STATIC = StaticFiles(STATIC_DIR)


def static_url(name: str) -> str:
    """The template helper ``static("htmx.min.js")``."""
    return STATIC.url(name)


@get("/static/{file_path:str}", opt=PUBLIC, sync_to_thread=False, include_in_schema=False)
def static_file(file_path: FromPath[str]) -> File:
    """One static file; hashed names are cached for a year, plain ones revalidated."""
    path, cache_control = STATIC.resolve(file_path)
    media_type, _ = mimetypes.guess_type(path.name)
    return File(
        path=path,
        media_type=media_type or "application/octet-stream",
        content_disposition_type="inline",
        headers={"Cache-Control": cache_control},
    )


@get("/favicon.ico", opt=PUBLIC, sync_to_thread=False, include_in_schema=False)
def favicon() -> Redirect:
    """Browsers ask for ``/favicon.ico`` on pages that name no icon (a gateway's return, a PDF): the SVG icon,
    instead of a 404 in every console."""
    return Redirect(static_url("favicon.svg"), status_code=302)  # not 301: the hashed name changes with the file
