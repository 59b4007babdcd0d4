"""The house rules of DESIGN.md, enforced by reading every import (deferred and TYPE_CHECKING ones too).

- the core (``ltrr_core``) never imports Streamlit;
- only the store speaks SQL (``sqlite3`` / ``sqlite_utils``); mabwiser, LightGBM and faiss each
  stay behind their one module;
- pages, ``ui/`` and the CLI (:data:`INTERFACES`) import of the core only the service faces, the
  studio that bundles them and the vocabulary they show (:data:`FACE_IMPORTS`); they never import
  the store, index or model libraries, nor reach into ``.store`` / ``.resources`` / ``.state`` /
  ``.runtime``;
- package ``__init__`` files import nothing, and no module of the core imports a module that
  imports it back, however indirectly;
- the core reads as the funnel: a module imports only modules of its own stage and the stages
  below it (:data:`STAGES`, bottom first); ``base`` imports nothing else of the core.

``rule_violations`` is run on this repository, and on small planted trees to show each rule fires.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STORAGE_AND_MODELS = ("sqlite3", "sqlite_utils", "faiss", "lightgbm", "mabwiser", "sentence_transformers", "torch")
CONFINED = {  # third-party package -> the only core module that may import it
    "sqlite3": "ltrr_core.feedback.store",
    "sqlite_utils": "ltrr_core.feedback.store",
    "mabwiser": "ltrr_core.selection.bandit",
    "lightgbm": "ltrr_core.ranking.ltr",
    "faiss": "ltrr_core.retrieval.indexes.dense",
}
FACE_IMPORTS = (  # what pages, ui/ and the CLI may import of the core
    "ltrr_core.studio", "ltrr_core.vocabulary", "ltrr_core.services.search", "ltrr_core.services.learning",
    "ltrr_core.services.labels", "ltrr_core.services.experiments", "ltrr_core.services.logs",
    "ltrr_core.services.simulation", "ltrr_core.services.analytics", "ltrr_core.services.reports",
    "ltrr_core.services.jobs",
)
INTERFACES = ("pages", "ui", "ltrr_core.cli")  # folders, or a core module that is an interface
STAGES = (  # bottom first: (stage, the module prefixes that belong to it)
    ("base", ("ltrr_core.base",)),
    ("catalog", ("ltrr_core.catalog",)),
    ("understanding", ("ltrr_core.understanding",)),
    ("selection", ("ltrr_core.selection",)),
    ("retrieval", ("ltrr_core.retrieval",)),
    ("ranking", ("ltrr_core.ranking",)),
    ("pipeline", ("ltrr_core.pipeline", "ltrr_core.results")),
    ("feedback", ("ltrr_core.feedback",)),
    ("simulation", ("ltrr_core.simulation",)),
    ("evaluation", ("ltrr_core.evaluation",)),
    ("reporting", ("ltrr_core.reporting",)),
    ("services", ("ltrr_core.services", "ltrr_core.engine")),
    ("studio", ("ltrr_core.studio", "ltrr_core.vocabulary")),
    ("interfaces", ("ltrr_core.cli",)),
)
INTERNALS = ("store", "resources", "state", "runtime")


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.AST) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names) of every import statement anywhere in the tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, tuple(alias.name for alias in node.names)))
    return found


def stage_of(module: str) -> int | None:
    """The index in :data:`STAGES` of the stage ``module`` belongs to (None: not in a stage)."""
    for index, (_, prefixes) in enumerate(STAGES):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _core_targets(module: str, names: tuple[str, ...], core: set[str]) -> set[str]:
    """The core modules an import loads: ``from a.b import c`` is module ``a.b.c`` when that exists."""
    targets = {f"{module}.{name}" for name in names if f"{module}.{name}" in core}
    if module in core and (len(targets) < len(names) or not names):
        targets.add(module)
    return targets


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def rule_violations(root: Path) -> list[str]:
    """Every broken house rule under ``root`` (a checkout: ltrr_core/, pages/, ui/), one line each."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path))
             for folder in ("ltrr_core", "pages", "ui") for path in sorted((root / folder).rglob("*.py"))}
    core = {module_name(root, p) for p in trees if p.relative_to(root).parts[0] == "ltrr_core"}
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for path, tree in trees.items():
        where, module = path.relative_to(root).as_posix(), module_name(root, path)
        folder = path.relative_to(root).parts[0]
        interface = folder in INTERFACES or module in INTERFACES
        for line, imported, names in imports(tree):
            top = imported.split(".")[0]
            if folder == "ltrr_core":
                if top == "streamlit":
                    problems.append(f"{where}:{line}: the core imports streamlit")
                if top in CONFINED and module != CONFINED[top] and not module.startswith(CONFINED[top] + "."):
                    problems.append(f"{where}:{line}: {top} belongs in {CONFINED[top]} only")
                if path.name == "__init__.py":
                    problems.append(f"{where}:{line}: a package __init__ imports {imported} (keep it import-free)")
                targets = _core_targets(imported, names, core) - {module}
                graph.setdefault(module, set()).update(targets)
                own = stage_of(module)
                for target in sorted(targets):
                    above = stage_of(target)
                    if own is None or above is None:
                        problems.append(f"{where}:{line}: {module if own is None else target} belongs to no stage "
                                        "(add it to STAGES)")
                    elif above > own:
                        problems.append(f"{where}:{line}: {STAGES[own][0]} imports {target}, of the later stage "
                                        f"{STAGES[above][0]}")
            else:
                if top in STORAGE_AND_MODELS:
                    problems.append(f"{where}:{line}: {folder}/ imports {top}; call a service face instead")
            if interface and top == "ltrr_core" and not (
                    _core_targets(imported, names, core) or {imported}) <= set(FACE_IMPORTS):
                problems.append(f"{where}:{line}: {module} imports {imported}; pages, ui/ and the CLI import "
                                "only the service faces, ltrr_core.studio and ltrr_core.vocabulary")
        if interface:
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in INTERNALS:
                    problems.append(f"{where}:{node.lineno}: reaches into .{node.attr}; use the engine face")
    cycle = _cycle(graph)
    if cycle:
        problems.append("import cycle in the core: " + " -> ".join(cycle))
    return problems


def test_this_repository_keeps_the_house_rules():
    assert rule_violations(ROOT) == []


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    for name in ("ltrr_core/__init__.py", "pages/.keep", "ui/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('"""package"""\n')
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("files,expected", [
    ({"ltrr_core/a.py": "def f():\n    import streamlit\n"}, "the core imports streamlit"),
    ({"ltrr_core/a.py": "import sqlite3\n"}, "sqlite3 belongs in ltrr_core.feedback.store only"),
    ({"pages/p.py": "from ltrr_core.feedback.store.feedback_store import FeedbackStore\n"}, "pages.p imports ltrr_core.feedback.store"),
    ({"pages/p.py": "from ltrr_core.engine import Engine\n"}, "pages.p imports ltrr_core.engine"),
    ({"ui/u.py": "from ltrr_core.evaluation.beir import evaluate_beir\n"}, "ui.u imports ltrr_core.evaluation.beir"),
    ({"ltrr_core/cli.py": "def f():\n    from ltrr_core.services.sweeps import run_sweep\n"},
     "ltrr_core.cli imports ltrr_core.services.sweeps"),
    ({"ui/u.py": "def f(studio):\n    return studio.search.runtime\n"}, "reaches into .runtime"),
    ({"ui/u.py": "import faiss\n"}, "ui/ imports faiss"),
    ({"pages/p.py": "def f(eng):\n    return eng.store.labels()\n"}, "reaches into .store"),
    ({"ltrr_core/a.py": "from ltrr_core import b\n",
      "ltrr_core/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ltrr_core.a import X\n"},
     "import cycle in the core: ltrr_core.a -> ltrr_core.b -> ltrr_core.a"),
    ({"ltrr_core/a.py": "def late():\n    from ltrr_core.c.d import g\n",
      "ltrr_core/c/__init__.py": '"""c"""\n', "ltrr_core/c/d.py": "from ltrr_core.a import late\n"},
     "import cycle in the core: ltrr_core.a -> ltrr_core.c.d -> ltrr_core.a"),
    ({"ltrr_core/c/__init__.py": "from ltrr_core.c.d import g\n", "ltrr_core/c/d.py": "g = 1\n"},
     "a package __init__ imports ltrr_core.c.d"),
    ({"ltrr_core/retrieval/r.py": "from ltrr_core.feedback.f import g\n", "ltrr_core/feedback/f.py": "g = 1\n"},
     "retrieval imports ltrr_core.feedback.f, of the later stage feedback"),
    ({"ltrr_core/base/b.py": "def late():\n    from ltrr_core.catalog.schema import Entity\n",
      "ltrr_core/catalog/schema.py": "Entity = 1\n"},
     "base imports ltrr_core.catalog.schema, of the later stage catalog"),
    ({"ltrr_core/misc.py": "from ltrr_core.base.b import g\n", "ltrr_core/base/b.py": "g = 1\n"},
     "ltrr_core.misc belongs to no stage"),
])
def test_each_rule_catches_a_planted_violation(tmp_path, files, expected):
    problems = rule_violations(_plant(tmp_path, files))
    assert any(expected in p for p in problems), problems
