"""The dependency direction and module size (DESIGN "Dependency direction", "Code shape").

One arrow: ``salesos`` (core records) <- ``territories`` <- ``routing`` <- ``planning``,
``analytics`` <- ``pages`` (home, the account and lead pages, the root URLs). ``routing.engine``
is pure Python with no Django and no project imports: any layer may use it, like a library. A
lower layer never imports a higher one; it announces through hooks (``salesos.hooks``,
``territories.hooks``) that the higher app connects in ``AppConfig.ready``. Imports of the
project's own modules sit at the top of a module, never inside a function (``AppConfig.ready``
excepted: that is where Django wants receivers connected).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("salesos", "territories", "routing", "planning", "analytics", "pages")
FLOOR = {"salesos": 1, "territories": 2, "routing": 3, "planning": 4, "analytics": 4, "pages": 5}
MAX_LINES = 450
# Modules over the limit, each with why it may stay for now; the list may only shrink.
KNOWN_LONG: dict[str, str] = {}

# Upward imports still to remove, file -> the higher apps it imports. The list may only shrink: a
# test fails when an entry is no longer needed, so it is deleted with the import it excused.
KNOWN_UPWARD: dict[str, set[str]] = {}


def modules() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def project_app(name: str) -> str | None:
    """The app a module name belongs to, None for others and for the engine (a library)."""
    if name.startswith("routing.engine"):
        return None
    top = name.split(".")[0]
    return top if top in FLOOR else None


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module in FLOOR:  # ``from routing import engine`` imports routing.engine
            return [f"{node.module}.{alias.name}" for alias in node.names]
        return [node.module]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return []


def top_level_imports(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in tree.body:
        names += imported(node)
        if isinstance(node, ast.If):  # ``if TYPE_CHECKING:``
            for inner in node.body:
                names += imported(inner)
    return names


def lengths() -> dict[str, int]:
    return {rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in modules()}


def test_no_module_is_over_450_lines():
    long = [f"{name}: {n}" for name, n in lengths().items() if n > MAX_LINES and name not in KNOWN_LONG]
    assert not long, "split these by job:\n" + "\n".join(long)


def test_known_long_modules_are_still_long():
    found = lengths()
    stale = [name for name in KNOWN_LONG if found.get(name, 0) <= MAX_LINES]
    assert not stale, f"these are short now: remove them from KNOWN_LONG: {stale}"


def test_no_project_imports_inside_functions():
    found = []
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if path.name == "apps.py" and func.name == "ready":
                continue
            for node in ast.walk(func):
                if any(project_app(name) or name.startswith("routing.engine") for name in imported(node)):
                    found.append(f"{rel(path)}:{node.lineno}")
    assert not found, "import at the top of the module, or notify upward through a hook:\n" + "\n".join(found)


def upward() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in modules():
        own = rel(path).split("/")[0]
        for name in top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            app = project_app(name)
            if app is not None and FLOOR[app] > FLOOR[own]:
                found.setdefault(rel(path), set()).add(app)
    return found


def test_no_new_upward_imports():
    new = {f: apps - KNOWN_UPWARD.get(f, set()) for f, apps in upward().items()}
    new = {f: apps for f, apps in new.items() if apps}
    assert not new, f"a lower layer imports a higher one (use a hook): {new}"


def test_known_upward_imports_are_still_needed():
    found = upward()
    stale = {f: apps - found.get(f, set()) for f, apps in KNOWN_UPWARD.items()}
    stale = {f: apps for f, apps in stale.items() if apps}
    assert not stale, f"these no longer import upward: remove them from KNOWN_UPWARD: {stale}"


def test_the_engine_imports_no_project_module():
    for path in sorted((ROOT / "routing" / "engine").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n for node in ast.walk(tree) for n in imported(node)]
        assert not [n for n in names if n.split(".")[0] in FLOOR], rel(path)
