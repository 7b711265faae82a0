"""The package layers are contracts, checked with the rest of the suite.

`lint-imports` checks the contracts of pyproject.toml (`[tool.importlinter]`): api above
camera_ingest and notices, both above etle; no web framework below api; etle's own layers and
its registers that stand alone. And no two modules import each other, directly or around a
circle, counting the imports written inside functions (which hide a circle from Python at
import time, not from a reader).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import pytest

from tests.conftest import REPO

PACKAGES = ("etle", "camera_ingest", "notices", "api")


def test_the_import_contracts_hold() -> None:
    # -c (not the lint-imports script): the repository's packages come first on sys.path.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--no-cache",
            "--no-logo",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of modules that import one another around a circle (strongly connected
    components of more than one module, or a module importing itself), each as one circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(root: str) -> None:
        # Tarjan's algorithm, iterative: the import graph is deep enough to hit the
        # recursion limit on a bad day.
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, edges = work[-1]
            for imported in edges:
                if imported not in index:
                    index[imported] = low[imported] = len(index)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append(
                        (imported, iter(sorted(graph.find_modules_directly_imported_by(imported))))
                    )
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1 or graph.direct_import_exists(
                        importer=module, imported=module
                    ):
                        found.append(_one_circle(graph, sorted(group)))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def _one_circle(graph: grimp.ImportGraph, group: list[str]) -> list[str]:
    start = group[0]
    for imported in sorted(graph.find_modules_directly_imported_by(start)):
        if imported == start:
            return [start, start]
        if imported in group:
            back = graph.find_shortest_chain(importer=imported, imported=start)
            if back is not None:
                return [start, *back]
    return group


def test_no_module_imports_itself_around_a_circle() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    found = circles(graph)
    assert found == [], "import circles: " + "; ".join(" -> ".join(c) for c in found)


def test_a_circle_hidden_in_a_function_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "lookup.py").write_text(
        textwrap.dedent(
            """
            def registry_for():
                from circled.remote import Remote  # function-local: no error at import time

                return Remote()
            """
        )
    )
    (package / "remote.py").write_text("from circled import lookup\n\nclass Remote: ...\n")
    (package / "plain.py").write_text("from circled import remote\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    graph = grimp.build_graph("circled", cache_dir=None)

    assert circles(graph) == [["circled.lookup", "circled.remote", "circled.lookup"]]
