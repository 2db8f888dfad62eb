"""The shape of the territories app: the edit views parse, authorise, call one service or
selector and render, without queries of their own or other modules' private names; the modules
split by job stay short."""

import ast
from pathlib import Path

import pytest

TERRITORIES = Path(__file__).resolve().parents[2] / "territories"


def _tree(name: str) -> ast.Module:
    return ast.parse((TERRITORIES / name).read_text())


def test_edit_views_run_no_queries_of_their_own():
    calls = [
        node.lineno for node in ast.walk(_tree("views_edit.py"))
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "named_accounts", "descendants", "ancestors")
    ]
    assert calls == [], f"ORM calls in territories/views_edit.py at lines {calls}"


def test_edit_views_use_no_private_names_of_other_modules():
    tree = _tree("views_edit.py")
    modules = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names}
    private = [
        f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
        and node.attr.startswith("_")
    ]
    private += [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names if alias.name.startswith("_")]
    assert private == []


@pytest.mark.parametrize("name", ["forms.py", "selectors.py", "tree.py", "detail.py", "history.py", "editing.py",
                                  "views_edit.py", "builder/codec.py", "builder/pickers.py", "builder/preview.py"])
def test_split_modules_stay_under_450_lines(name):
    assert len((TERRITORIES / name).read_text().splitlines()) <= 450
