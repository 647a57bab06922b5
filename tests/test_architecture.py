"""The one-way layers of issue 14 (README "Layout"), enforced two ways:

1. the import-linter contracts of ``.importlinter`` (``lint-imports``) pass;
2. no module imports a higher layer inside a function (or any other indented block)
   to dodge an import cycle: such an import is listed with its file and line.
"""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _config() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config


def _contract_layers() -> list[tuple[str, int]]:
    """The layers of ``.importlinter``'s contract (its one definition), lowest first;
    siblings written ``a | b`` share a rank."""
    lines = _config()["importlinter:contract:layers"]["layers"].split("\n")
    rows = [line.strip() for line in lines if line.strip()]
    return [
        (name.strip(), rank)
        for rank, row in enumerate(reversed(rows))
        for name in row.split("|")
    ]


LAYERS = _contract_layers()
SCANNED = [
    line.strip()
    for line in _config()["importlinter"]["root_packages"].splitlines()
    if line.strip()
]


def layer_of(module: str) -> tuple[str, int] | None:
    for name, rank in LAYERS:
        if module == name or module.startswith(name + "."):
            return name, rank
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def nested_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports below the module's top level, except ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if not top:
                    found.append(child)
                continue
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue
            visit(child, top=False)

    visit(tree, top=True)
    return found


def upward_local_imports() -> list[str]:
    problems = []
    for package in SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = module_name(path)
            own = layer_of(module)
            if own is None:
                continue  # composition roots: settings, urls, wsgi
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in nested_imports(tree):
                if isinstance(node, ast.ImportFrom):
                    targets = [_absolute(node, module, path.name == "__init__.py")]
                else:
                    targets = [alias.name for alias in node.names]
                for target in targets:
                    theirs = layer_of(target)
                    if theirs is None or theirs[0] == own[0]:
                        continue
                    if theirs[1] >= own[1]:
                        problems.append(
                            f"{path.relative_to(ROOT)}:{node.lineno}: {own[0]} "
                            f"imports {target} ({theirs[0]}) inside a block"
                        )
    return problems


def test_the_import_contracts_are_kept():
    exe = Path(sys.executable).parent / "lint-imports"
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or ""]
    result = subprocess.run(
        [*command, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_function_local_import_of_a_higher_layer():
    problems = upward_local_imports()
    assert not problems, "Imports of a higher layer inside a block:\n" + "\n".join(
        problems
    )


def test_the_scan_sees_a_local_upward_import():
    """The scanner itself: an indented import of a higher layer is found, a
    module-level one and a TYPE_CHECKING one are not its business."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from reviews.models import ReviewTask\n"
        "if TYPE_CHECKING:\n"
        "    from reviews.models import Rule\n"
        "def f():\n"
        "    from reviews.queue import services\n"
        "    try:\n"
        "        import portal.auditlog\n"
        "    except ImportError:\n"
        "        pass\n"
    )
    found = nested_imports(tree)
    assert [n.lineno for n in found] == [6, 8]
    assert layer_of("reviews.queue.services") == ("reviews", 6)
    assert layer_of("invoiceportal.invoices.notify") == ("invoiceportal.invoices", 4)
    assert layer_of("invoiceportal.urls") is None
