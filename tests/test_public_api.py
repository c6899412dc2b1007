"""The public API says what is public: ``tapegrad.__all__`` names only public things, every
public function, class and ``Tensor`` method has a docstring, and no public signature has an
internal (``_``-prefixed) parameter.

The public API is: ``tapegrad.__all__``; the public names of each public submodule (its
``__all__``, or, without one, what it defines itself), recursively for submodules those list
(``nn.functional``, ``utils.data``...); and every public ``Tensor`` attribute that is callable or
a property. Each test names every offender at once, not the first.
"""
from __future__ import annotations

import inspect
import types

import tapegrad
from tapegrad import Tensor

PUBLIC_SUBMODULES = {"autograd", "nn", "optim", "jit", "linalg", "profile", "viz", "utils",
                     "func", "cuda", "special"}


def _module_names(mod: types.ModuleType) -> list[str]:
    """A module's public names: its ``__all__``, or else the public names it defines itself
    (functions and classes whose ``__module__`` is the module, and its own submodules)."""
    if hasattr(mod, "__all__"):
        return list(mod.__all__)
    names = []
    for n, v in vars(mod).items():
        if n.startswith("_"):
            continue
        if isinstance(v, types.ModuleType):
            if v.__name__.startswith(mod.__name__ + "."):
                names.append(n)
        elif getattr(v, "__module__", None) == mod.__name__ and callable(v):
            names.append(n)
    return names


def public_api() -> dict[str, object]:
    """Qualified name -> object for every public name (modules included)."""
    api: dict[str, object] = {}

    def walk(mod, prefix):
        for n in _module_names(mod):
            obj = getattr(mod, n)
            qual = f"{prefix}.{n}"
            if qual in api:
                continue
            api[qual] = obj
            if isinstance(obj, types.ModuleType) and obj.__name__.startswith("tapegrad."):
                walk(obj, qual)

    walk(tapegrad, "tapegrad")
    return api


def tensor_api() -> dict[str, object]:
    """``Tensor.<name>`` -> attribute, for every public callable or property."""
    out = {}
    for n in dir(Tensor):
        if n.startswith("_"):
            continue
        attr = inspect.getattr_static(Tensor, n)
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        if isinstance(attr, property) or callable(attr):
            out[f"Tensor.{n}"] = attr
    return out


def _documented(obj) -> bool:
    if isinstance(obj, property):
        doc = obj.__doc__ or (obj.fget.__doc__ if obj.fget else None)
    else:
        doc = getattr(obj, "__doc__", None)
    return bool(doc and doc.strip())


def _needs_doc(obj) -> bool:
    """Modules, functions, classes and properties; not values such as dtypes."""
    return isinstance(obj, (types.ModuleType, property)) or callable(obj)


def missing_docstrings() -> list[str]:
    names = {**public_api(), **tensor_api()}
    return sorted(q for q, obj in names.items() if _needs_doc(obj) and not _documented(obj))


def test_the_public_api_is_found():
    # A guard for the tests below: a walk that found nothing would pass them all.
    api, methods = public_api(), tensor_api()
    assert len(api) > 300 and len(methods) > 150, (len(api), len(methods))
    for q in ("tapegrad.matmul", "tapegrad.nn.Linear", "tapegrad.nn.functional.cross_entropy",
              "tapegrad.optim.Adam", "tapegrad.utils.data.DataLoader", "tapegrad.linalg.inv"):
        assert q in api, q
    for q in ("Tensor.backward", "Tensor.grad", "Tensor.T", "Tensor.exp", "Tensor.add_"):
        assert q in methods, q


def test_star_import_gives_the_public_names():
    ns: dict = {}
    exec("from tapegrad import *", ns)
    assert set(tapegrad.__all__) <= set(ns)


def test_all_names_only_public_things():
    bad = [n for n in tapegrad.__all__ if n.startswith("_")]
    assert not bad, f"__all__ has private names: {bad}"
    assert len(set(tapegrad.__all__)) == len(tapegrad.__all__), "__all__ repeats a name"
    for n in tapegrad.__all__:
        assert hasattr(tapegrad, n), f"__all__ names {n!r}, which tapegrad does not define"
    modules = {n for n in tapegrad.__all__
               if isinstance(getattr(tapegrad, n), types.ModuleType)}
    internal = sorted(modules - PUBLIC_SUBMODULES)
    assert not internal, f"__all__ lists modules that are not public: {internal}"
    assert "annotations" not in tapegrad.__all__


def test_public_submodules_are_in_all():
    assert PUBLIC_SUBMODULES <= set(tapegrad.__all__), PUBLIC_SUBMODULES - set(tapegrad.__all__)


def test_submodules_list_no_private_names():
    bad = [q for q in public_api() if q.rpartition(".")[2].startswith("_")]
    assert not bad, f"private names listed as public: {bad}"


def test_every_public_name_has_a_docstring():
    missing = missing_docstrings()
    assert not missing, (f"{len(missing)} public names have no docstring:\n  "
                         + "\n  ".join(missing))


def _signature(obj):
    target = obj.fget if isinstance(obj, property) else obj
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):  # builtins and C types without a signature
        return None


def test_no_public_signature_has_an_internal_parameter():
    bad = []
    for q, obj in {**public_api(), **tensor_api()}.items():
        if isinstance(obj, types.ModuleType) or not (callable(obj) or isinstance(obj, property)):
            continue
        sig = _signature(obj)
        if sig is None:
            continue
        internal = [p for p in sig.parameters if p.startswith("_")]
        if internal:
            bad.append(f"{q}{sig}")
    assert not bad, "public signatures with internal parameters:\n  " + "\n  ".join(bad)
