"""The package's layering: every import points down the stack, and no module imports itself back.

The stack, bottom first (a module may import its own package and the layers below it, also
inside functions): data → datasets, pythia, config → layers → models → training → generation
→ evaluation → plotting → report → workflows → the command line → benchmarks.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "omnilearn"

#: top-level part of ``omnilearn`` → its layer (lower layers never import higher ones)
LAYERS = {
    "errors": -1,
    "atomic": -1,
    "data": 0,
    "paper": 0,
    "datasets": 1,
    "config": 1,
    "recipes": 1,
    "runs": 1,
    "pythia": 2,
    "layers": 2,
    "models": 3,
    "training": 4,
    "generation": 5,
    "evaluation": 6,
    "plotting": 7,
    "report": 8,
    "workflows": 9,
    "cli": 10,
    "benchmarks": 11,
    "__main__": 12,
    "__init__": 12,
}


def _module_name(path: Path) -> str:
    parts = ["omnilearn", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``omnilearn`` module ``path`` imports, at any depth of the file, as absolute names."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("omnilearn"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("omnilearn"):
                continue
            # ``from .pkg import module`` imports the submodule (its package is already loaded)
            submodules = {
                f"{target}.{a.name}"
                for a in node.names
                if (PACKAGE.parent / f"{target}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
            }
            found |= submodules if len(submodules) == len(node.names) else submodules | {target}
    return found - {module}


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else "__init__"
    assert part in LAYERS, f"{module}: add its package to LAYERS in tests/test_layout.py"
    return LAYERS[part]


def test_no_upward_import():
    upward = []
    for module, imports in _graph().items():
        for target in imports:
            same_package = target.split(".")[:2] == module.split(".")[:2]
            if target != "omnilearn" and not same_package and _layer(target) >= _layer(module):
                upward.append(f"{module} imports {target}")
    assert not upward, "imports that point up (or sideways) the stack:\n" + "\n".join(sorted(upward))


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_layout_check_sees_a_violation(tmp_path):
    """The checker itself: an upward relative import inside a function is found."""
    fake = PACKAGE / "data" / "_layout_probe.py"
    fake.write_text("def f():\n    from ..training import checkpoint\n")
    try:
        assert "omnilearn.training.checkpoint" in _imports(fake)
        assert _layer("omnilearn.training.checkpoint") > _layer("omnilearn.data._layout_probe")
    finally:
        fake.unlink()
