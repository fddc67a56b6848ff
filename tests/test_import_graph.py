"""The import graph follows the data flow: contract <- capture <- training <- converter <- search <- boardtools,
with the ``nanogest`` command above them all.

Every module of the packages is parsed (ast, so imports inside functions count too) and an import of a
package above the module's own is an upward edge: the test names each one. There are no exceptions:
a stage's command line offers its own commands, and only ``nanogest`` gathers them.
"""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("contract", "capture", "training", "converter", "search", "boardtools", "nanogest")  # bottom to top
ALLOWED: set[tuple[str, str]] = set()  # (module path, package) edges let through; keep it empty


def imported_packages(tree: ast.AST):
    """(line, top-level package name) of every absolute import in a parsed module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def upward_edges(root: Path) -> list[str]:
    """'path:line: package imports higher' for every import of a higher layer under ``root``."""
    edges = []
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for line, name in imported_packages(ast.parse(path.read_text(), filename=rel)):
                if name in LAYERS and LAYERS.index(name) > LAYERS.index(package) and (rel, name) not in ALLOWED:
                    edges.append(f"{rel}:{line}: {package} imports {name}, which is above it "
                                 f"({' <- '.join(LAYERS)})")
    return edges


def test_no_module_imports_a_higher_stage():
    assert all((REPO / p / "__init__.py").is_file() for p in LAYERS)
    edges = upward_edges(REPO)
    assert not edges, "upward imports:\n" + "\n".join(edges)


def test_an_upward_import_inside_a_function_is_named(tmp_path):
    for package in LAYERS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "capture" / "ok.py").write_text("from contract.pipeline import CHANNELS\n")
    (tmp_path / "training" / "bad.py").write_text("import numpy\n\n\ndef f():\n    from converter.int8.tflm import run_tflm\n")
    (tmp_path / "contract" / "bad.py").write_text("import capture.dataset\n")
    assert upward_edges(tmp_path) == [
        "contract/bad.py:1: contract imports capture, which is above it (contract <- capture <- training <- converter <- search <- boardtools <- nanogest)",
        "training/bad.py:5: training imports converter, which is above it (contract <- capture <- training <- converter <- search <- boardtools <- nanogest)",
    ]


def module_graph(root: Path) -> dict[str, set[str]]:
    """Module name -> the package modules it imports (``from a.b import c`` names a.b.c when that is a module)."""
    paths = {}
    for package in LAYERS:
        for path in (root / package).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            paths[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in paths.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in paths else node.module
                             for a in node.names)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[str]:
    """'a -> b -> a' for one circle through each module that lies on one (depth-first, in name order)."""
    found, done = [], set()

    def visit(name: str, path: list[str]) -> None:
        for nxt in sorted(graph[name]):
            if nxt in path:
                found.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in done:
                visit(nxt, path + [nxt])
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    return found


def test_no_import_circle():
    found = circles(module_graph(REPO))
    assert not found, "import circles:\n" + "\n".join(found)


def test_a_circle_is_named():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a -> b -> c -> a"]
