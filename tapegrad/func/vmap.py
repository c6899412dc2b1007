"""``torch.func.vmap``: maps by a loop. Values are PyTorch's, speed is a loop's.

``vmap(f)(x)`` runs ``f`` once per slice of the mapped dimension and stacks the results, which
is what a batching rule must compute; because each slice is an ordinary recorded op
(``select``) and the result an ordinary ``stack``, vmap composes with every other transform and
with autograd (``vmap(grad(f))``, ``grad`` of a vmapped function, vmap of vmap). ``in_dims``
and ``out_dims`` are pytree prefixes of the inputs and outputs; keyword arguments are not
mapped. ``randomness``: 'error' (the default) raises PyTorch's error when ``f`` draws random
numbers, 'different' draws on for each element, 'same' gives every element the same numbers.

Where PyTorch refuses inside vmap but a loop has no way to tell (``.item()``, data-dependent
control flow), the loop computes the per-element answer instead of raising. An empty batch runs
``f`` once on zeros to learn the shapes of its outputs.
"""
from __future__ import annotations

from ..tensor import Tensor
from ._pytree import broadcast_prefix, describe, flatten, unflatten
from .transforms import randomness_mode

__all__ = ["vmap"]


def _name(func) -> str:
    return getattr(func, "__name__", repr(func))


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """``f`` mapped over a dimension of its inputs (``in_dims``), the results stacked along
    ``out_dims``: the same as a Python loop over the batch, stacked. ``chunk_size`` is accepted
    (the loop runs one element at a time)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    def wrapped(*args, **kwargs):
        name = _name(func)
        where = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) "
                             f"tuple matching the structure of inputs, got: {type(in_dims)}.")
        if not args:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add "
                             "inputs, or you are trying to vmap over a function with no inputs. "
                             "The latter is unsupported.")
        leaves, spec = flatten(args)
        dims = broadcast_prefix(in_dims if isinstance(in_dims, tuple) else in_dims, args,
                                lambda p: p is None or isinstance(p, int))
        if dims is None:
            raise ValueError(f"{where}: in_dims is not compatible with the structure of "
                             f"`inputs`. in_dims has structure {describe(flatten(in_dims)[1])} "
                             f"but inputs has structure {describe(spec)}.")
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(d, int):
                raise ValueError(f"{where}: in_dims must be int or None, got {type(d)}")
            if not isinstance(x, Tensor):
                raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of "
                                 f"type {type(x)}. We cannot vmap over non-Tensor arguments, "
                                 "please use None as the respective in_dim")
            if not -x.ndim <= d < x.ndim or x.ndim == 0:
                raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a "
                                 f"Tensor of dimensionality {x.ndim} so expected in_dim to "
                                 f"satisfy -{x.ndim} <= in_dim < {x.ndim}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if len(set(sizes)) != 1:
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        if sizes[0] == 0:
            with randomness_mode(randomness):
                return _empty(func, leaves, dims, spec, kwargs, out_dims, name)
        results = []
        with randomness_mode(randomness) as reset:
            for b in range(sizes[0]):
                sliced = [x if d is None else x[(slice(None),) * (d % x.ndim) + (b,)]
                          for x, d in zip(leaves, dims)]
                reset()
                results.append(func(*unflatten(sliced, spec), **kwargs))
        return _stack(results, out_dims, name, sizes[0])

    wrapped.__name__ = _name(func)
    wrapped.__doc__ = func.__doc__
    return wrapped


def _empty(func, leaves, dims, spec, kwargs, out_dims, name: str):
    """A batch of size 0: ``f`` runs once on zeros, only to learn its outputs' shapes (random
    numbers it draws are given back); every output is empty along its out_dim."""
    from .. import random as _random
    from ..creation import zeros
    sliced = []
    for x, d in zip(leaves, dims):
        if d is None:
            sliced.append(x)
        else:
            shape = tuple(x.shape)
            sliced.append(zeros(shape[:d % x.ndim] + shape[d % x.ndim + 1:], dtype=x.dtype))
    state = _random.default_generator.get_state()
    try:
        sample = func(*unflatten(sliced, spec), **kwargs)
    finally:
        _random.default_generator.set_state(state)
    leaves_out, out_spec = flatten(sample)
    empty = [zeros((0,) + tuple(o.shape), dtype=o.dtype) if isinstance(o, Tensor) else o
             for o in leaves_out]
    return _stack([unflatten(empty, out_spec)], out_dims, name, 0, moved=True)


def _stack(results, out_dims, name: str, batch: int, moved: bool = False):
    from ..forward import stack
    per, out_spec = [], None
    for r in results:
        leaves, spec = flatten(r)
        if out_spec is None:
            out_spec = spec
        per.append(leaves)
    outs = unflatten([None] * len(per[0]), out_spec)
    dims = broadcast_prefix(out_dims, outs, lambda p: p is None or isinstance(p, int))
    if dims is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                         "compatible with the structure of `outputs`. out_dims has structure "
                         f"{describe(flatten(out_dims)[1])} but outputs has structure "
                         f"{describe(out_spec)}.")
    stacked = []
    for k, d in enumerate(dims):
        column = [leaves[k] for leaves in per]
        if d is None:
            first = column[0]
            if isinstance(first, Tensor) and any(
                    not isinstance(x, Tensor) or x.shape != first.shape
                    or not bool((x._data == first._data).all()) for x in column[1:]):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                                 "when out_dim is None")
            stacked.append(first)
            continue
        for x in column:
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got "
                                 f"type {type(x)}. Did you mean to set out_dims= to None for "
                                 "output?")
        nd = column[0].ndim + (0 if moved else 1)
        if not -nd <= d < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                             f"{nd - 1}], but got {d})")
        stacked.append(column[0].movedim(0, d) if moved else stack(column, d))
    return unflatten(stacked, out_spec)
