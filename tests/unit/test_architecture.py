"""The house rules of docs/architecture.md, checked on the source (no import of the code under test needed).

- No import circle anywhere in the platform, the tenants layer or the libraries (imports inside functions
  count: a deferred import hides a circle, it does not remove it).
- The schedule is at the top: only ``jobs/`` (worker), the CLI and the app import ``jobs.registry``.
- No SQL in any ``routes.py``: handlers parse, call a service or query, render.
- Every template a handler or another template names exists where ``web/templating.py`` looks for it.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "ispb_platform": ROOT / "platform" / "src" / "ispb_platform",
    "ispb_tenants": ROOT / "tenants" / "src" / "ispb_tenants",
    "ispb_billing": ROOT / "packages" / "ispb-billing" / "src" / "ispb_billing",
    "ispb_netsync": ROOT / "packages" / "ispb-netsync" / "src" / "ispb_netsync",
    "ispb_notify": ROOT / "packages" / "ispb-notify" / "src" / "ispb_notify",
    "ispb_monitor": ROOT / "packages" / "ispb-monitor" / "src" / "ispb_monitor",
}
PLATFORM = SOURCES["ispb_platform"]


def _modules() -> dict[str, Path]:
    """Every module of our packages by dotted name (a package is its ``__init__``)."""
    found = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path) -> Iterator[str]:
    """Our modules that ``module`` imports, anywhere in its body; ``from a import b`` counts ``a.b`` when b is a
    module, else ``a``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:  # `import a.b.c` of a non-module attribute: its module
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


GRAPH = {module: set(_imported(module, path)) for module, path in MODULES.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


def test_the_walk_sees_the_known_edges() -> None:
    """Guards the test itself: a walk that found no imports would find no circle either."""
    assert "ispb_platform.jobs.job" in GRAPH["ispb_platform.jobs.registry"]
    assert "ispb_tenants.database" in GRAPH["ispb_tenants"]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_there_is_no_import_circle() -> None:
    assert _circles(GRAPH) == []


def test_only_the_top_imports_the_schedule() -> None:
    """Domains never import the registry or the worker: the schedule imports them (docs/architecture.md)."""
    top = ("ispb_platform.jobs", "ispb_platform.cli", "ispb_platform.app", "ispb_platform.demo")
    offenders = {
        module: sorted(imported & {"ispb_platform.jobs.registry", "ispb_platform.jobs.worker"})
        for module, imported in GRAPH.items()
        if not module.startswith(top)
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_libraries_import_no_layer_above_them() -> None:
    libraries = [name for name in SOURCES if name not in ("ispb_platform", "ispb_tenants")]
    upward = {
        module: sorted(name for name in imported if name.startswith(("ispb_platform", "ispb_tenants")))
        for module, imported in GRAPH.items()
        if module.startswith(tuple(libraries))
    }
    assert {module: names for module, names in upward.items() if names} == {}


ROUTES = sorted(PLATFORM.rglob("routes.py"))
_DATABASE_CALLS = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table", "cursor"}
_SQL = re.compile(r"^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS)\b", re.I | re.M)


def _sql_in(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _DATABASE_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}(...)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(f"line {node.lineno}: SQL text {node.value.strip()[:40]!r}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ispb_tenants.tables"):
            found.append(f"line {node.lineno}: imports table classes (queries belong in queries.py)")
    return found


def test_every_domain_has_routes() -> None:
    """Guards the next test: it must have files to look at."""
    assert len(ROUTES) >= 10


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: str(p.relative_to(PLATFORM)))
def test_no_sql_in_routes(path: Path) -> None:
    assert _sql_in(path) == []


def test_the_sql_check_catches_sql(tmp_path: Path) -> None:
    sample = tmp_path / "routes.py"
    sample.write_text('async def f(db):\n    await db.connection.fetch("SELECT 1")\nQ = """\n  DELETE FROM x"""\n')
    assert len(_sql_in(sample)) == 3


_TEMPLATE_NAME = re.compile(r"""["']((?:[a-z_]+/)*[a-z_]+\.html)["']""")


def _template_file(name: str) -> Path:
    folder, _, file = name.rpartition("/")
    return (PLATFORM / folder / "templates" / file) if folder else (PLATFORM / "web" / "templates" / file)


def _template_names() -> set[tuple[str, str]]:
    names = set()
    for path in [*PLATFORM.rglob("*.py"), *PLATFORM.rglob("templates/*.html")]:
        if "invoices" in path.parts:  # the invoice PDF has its own renderer and template folder
            continue
        for name in _TEMPLATE_NAME.findall(path.read_text()):
            names.add((str(path.relative_to(PLATFORM)), name))
    return names


def test_every_named_template_exists_beside_its_code() -> None:
    names = _template_names()
    assert len(names) > 40
    assert [(where, name) for where, name in sorted(names) if not _template_file(name).is_file()] == []


def test_templates_live_only_where_the_loader_looks() -> None:
    """A template folder belongs to a code folder (``<domain>/templates/``); nothing else holds templates."""
    stray = [
        str(path.relative_to(PLATFORM))
        for path in PLATFORM.rglob("*.html")
        if path.parent.name != "templates" or not any(path.parent.parent.glob("*.py"))
    ]
    assert stray == []
