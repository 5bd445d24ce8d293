"""Where page templates live: beside the code that renders them (docs/architecture.md).

A template's name is its domain's folder plus the file: ``billing/bills/list.html`` is
``ispb_platform/billing/bills/templates/list.html``, rendered by ``billing/bills/routes.py``. A name without a
folder (``base.html``, ``macros.html``, ``error.html``) is shared by every page and lives in ``web/templates/``.
So a newcomer who reads a template name knows the folder, and a domain's pages move with its code.
"""

from collections.abc import Callable
from pathlib import Path

from jinja2 import BaseLoader, Environment, TemplateNotFound
from jinja2.loaders import split_template_path
from litestar.plugins.jinja import JinjaTemplateEngine

from ispb_platform.web.assets import static_url
from ispb_platform.web.filters import register_filters

PLATFORM_DIR = Path(__file__).parent.parent
SHARED_TEMPLATES = Path(__file__).parent / "templates"


def template_path(name: str) -> Path:
    """The file behind template ``name``; ``..`` and absolute parts are refused (`TemplateNotFound`)."""
    *folders, file = split_template_path(name)  # raises TemplateNotFound for ".." pieces
    if not folders:
        return SHARED_TEMPLATES / file
    return PLATFORM_DIR.joinpath(*folders, "templates", file)


class DomainLoader(BaseLoader):
    """Loads ``<domain>/<file>`` from ``<domain>/templates/<file>``, unqualified names from ``web/templates``."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = template_path(template)
        try:
            source = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TemplateNotFound(template) from None
        modified = path.stat().st_mtime
        return source, str(path), lambda: path.is_file() and path.stat().st_mtime == modified


def page_templates() -> JinjaTemplateEngine:
    """The app's template engine: autoescaped, with the shared filters."""
    engine = JinjaTemplateEngine.from_environment(Environment(loader=DomainLoader(), autoescape=True))
    register_filters(engine)
    engine.engine.globals["static"] = static_url  # {{ static("ispb.css") }}: a hashed, cacheable URL
    return engine
