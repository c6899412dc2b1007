"""A small pytree: tuples, lists (and namedtuples) and dicts are nodes, everything else a leaf,
as ``torch.utils._pytree`` treats them for ``torch.func``."""
from __future__ import annotations


def flatten(tree) -> tuple[list, object]:
    """``(leaves, spec)``; ``unflatten(leaves, spec)`` rebuilds ``tree``."""
    leaves: list = []

    def go(x):
        if isinstance(x, (tuple, list)):
            return (type(x), len(x), [go(c) for c in x])
        if isinstance(x, dict):
            keys = list(x)
            return (type(x), keys, [go(x[k]) for k in keys])
        leaves.append(x)
        return None

    return leaves, go(tree)


def unflatten(leaves, spec):
    """The tree of ``spec`` with ``leaves`` in order."""
    it = iter(leaves)

    def build(s):
        if s is None:
            return next(it)
        typ, keys, children = s
        vals = [build(c) for c in children]
        if issubclass(typ, dict):
            return typ(zip(keys, vals))
        if hasattr(typ, "_fields"):
            return typ(*vals)
        return typ(vals)

    return build(spec)


def describe(spec) -> str:
    """PyTorch's ``TreeSpec`` notation, for error messages."""
    if spec is None:
        return "*"
    typ, keys, children = spec
    ctx = keys if isinstance(keys, list) and issubclass(typ, dict) else None
    return f"TreeSpec({typ.__name__}, {ctx}, [{', '.join(describe(c) for c in children)}])"


def broadcast_prefix(prefix, tree, is_leaf=lambda p: not isinstance(p, (tuple, list, dict))):
    """One entry of ``prefix`` per leaf of ``tree``, a prefix's leaf covering a whole subtree;
    ``None`` if the structures do not match."""
    if is_leaf(prefix):
        return [prefix] * len(flatten(tree)[0])
    if isinstance(prefix, (tuple, list)):
        if not isinstance(tree, (tuple, list)) or len(prefix) != len(tree):
            return None
        pairs = list(zip(prefix, tree))
    else:
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            return None
        pairs = [(prefix[k], tree[k]) for k in tree]
    out = []
    for p, t in pairs:
        sub = broadcast_prefix(p, t, is_leaf)
        if sub is None:
            return None
        out.extend(sub)
    return out
