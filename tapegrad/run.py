"""Run a PyTorch script unchanged, with tapegrad standing in for torch.

    python -m tapegrad.run SCRIPT.py [args...]
    python -m tapegrad.run -m package.module [args...]

Every ``import torch`` and ``import torch.X.Y`` in the script (and in whatever it imports)
resolves to ``tapegrad`` and ``tapegrad.X.Y``: the same module objects that ``import
tapegrad.X.Y`` gives, so ``torch.nn is tapegrad.nn``. A submodule tapegrad does not have stays
missing, and the script fails as a user would see it fail (``ModuleNotFoundError: No module named
'torch.X'``). The script runs as ``__main__`` with ``sys.argv`` and ``sys.path[0]`` set as
``python SCRIPT.py`` sets them.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

_ALIAS = "torch"
_REAL = "tapegrad"


class TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta path finder and loader that finds ``torch`` and ``torch.*`` as the matching,
    already importable tapegrad module."""

    def find_spec(self, fullname, path=None, target=None):
        """A spec for ``torch[.X]`` when ``tapegrad[.X]`` exists, else None (not found)."""
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        real = _REAL + fullname[len(_ALIAS):]
        try:
            if importlib.util.find_spec(real) is None:
                return None
        except ModuleNotFoundError:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        """The tapegrad module itself, imported (once) under its own name."""
        module = importlib.import_module(_REAL + spec.name[len(_ALIAS):])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        """Nothing to run (the module ran as tapegrad.X); the import system has just stamped
        the alias's spec on it: put its own back, so tapegrad's relative imports and reloads are
        unaffected."""
        module.__spec__ = module.__spec__.loader_state


def install() -> None:
    """Make ``import torch[.X]`` give ``tapegrad[.X]`` in this process from now on."""
    if not any(isinstance(f, TorchAlias) for f in sys.meta_path):
        sys.meta_path.insert(0, TorchAlias())
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        del sys.modules[name]  # a real torch imported earlier must not shadow the alias
    importlib.import_module(_ALIAS)


def main(argv=None) -> None:
    """``python -m tapegrad.run SCRIPT.py [args]``: run the script with torch aliased."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if argv else 2)
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            sys.exit("tapegrad.run: -m needs a module name")
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    script = argv[0]
    if not os.path.exists(script):
        sys.exit(f"tapegrad.run: can't open file '{script}': No such file or directory")
    sys.argv = [script, *argv[1:]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
