"""Imports run one way: down the layers of ARCHITECTURE.md. A lower layer reaches an upper one
only through tapegrad/registry.py, never by importing it (not even inside a function)."""
from __future__ import annotations

import ast
import pathlib

import tapegrad

ROOT = pathlib.Path(tapegrad.__file__).parent

# Bottom to top. A module may import its own layer and those below, never one above.
LAYERS = [
    ("core", ["envvars", "registry", "dtypes", "tape", "threads", "grad_mode", "structure",
              "cuda", "specfun", "device"]),
    ("tensor", ["tensor", "printing"]),
    ("ops and forward", ["ops", "linalg_vjps", "lu_vjps", "random", "creation", "forward",
                         "methods", "numpy_api", "linalg", "axis_alias"]),
    ("engine", ["engine", "backends"]),
    ("jit", ["jit"]),
    ("toolkits", ["graph", "autograd", "func", "nn", "optim", "utils", "serialization",
                  "compiled", "compiler", "special"]),
    ("looking inside", ["profile", "explain", "viz"]),
    ("package", ["__init__", "run"]),
]
LAYER_OF = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def _top(module_path: pathlib.Path) -> str:
    rel = module_path.relative_to(ROOT).with_suffix("")
    return rel.parts[0]


def _imported(module_path: pathlib.Path):
    """(line, top-level tapegrad module) for every import of tapegrad code in a file."""
    tree = ast.parse(module_path.read_text())
    package = module_path.relative_to(ROOT).parent.parts
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - (node.level - 1)])
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    yield node.lineno, parts[0]
                else:  # "from . import x, y" at the package root
                    for alias in node.names:
                        yield node.lineno, alias.name
            elif node.module and node.module.split(".")[0] == "tapegrad":
                parts = node.module.split(".")[1:]
                names = [parts[0]] if parts else [a.name for a in node.names]
                for name in names:
                    yield node.lineno, name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "tapegrad" and len(parts) > 1:
                    yield node.lineno, parts[1]


def test_every_module_has_a_layer():
    missing = sorted({_top(p) for p in ROOT.rglob("*.py")} - set(LAYER_OF))
    assert not missing, f"put these modules in a layer of tests/test_layers.py: {missing}"


def test_imports_run_down_the_layers():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        mine = LAYER_OF[_top(path)]
        for line, target in _imported(path):
            if target in LAYER_OF and LAYER_OF[target] > mine:
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} imports {target} "
                             f"({LAYERS[LAYER_OF[target]][0]}) from {LAYERS[mine][0]}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)
