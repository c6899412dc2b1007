"""Replay rules: the numpy forward of each structural op, from its operands and the params its
record holds. Each computes what the eager forward computes, by the same numpy calls (the
multi-step ones shared through ``forward.numerics``), so replayed values equal eager ones.
Elementwise ops need no rule: the op table's ``FORWARD`` is their forward. An op with no rule
here is a graph break (its signature runs eagerly)."""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .. import threads
from ..forward import numerics


class Rule(NamedTuple):
    fn: Callable              # fn(operands, params, node) -> the output array
    live_params: tuple = ()   # params holding arrays that come from tensors (an index)


def _sum(xs, p, node):
    dims, keepdim = p
    return np.sum(xs[0], axis=dims, keepdims=keepdim)


def _mean(xs, p, node):
    dims, keepdim = p
    return np.mean(xs[0], axis=dims, keepdims=keepdim)


def _amax(xs, p, node):
    dims, keepdim = p
    return np.amax(xs[0], axis=dims, keepdims=keepdim)


def _spread(np_fn):
    def fn(xs, p, node):
        dims, corr, keepdim = p
        with np.errstate(divide="ignore", invalid="ignore"):
            return np_fn(xs[0], axis=dims, keepdims=keepdim, ddof=corr)
    return fn


def _index(value, resolve):
    """An index param with its live arrays resolved for this call."""
    if isinstance(value, tuple):
        return tuple(_index(v, resolve) for v in value)
    if isinstance(value, list):
        return [_index(v, resolve) for v in value]
    if hasattr(value, "ref") and type(value).__name__ == "Ref":
        return resolve(value.ref)
    return value


def _getitem(xs, p, node):
    return xs[0][p[0]]


RULES: dict[str, Rule] = {
    "sum": Rule(_sum),
    "mean": Rule(_mean),
    "amax": Rule(_amax),
    "var": Rule(_spread(np.var)),
    "std": Rule(_spread(np.std)),
    "logsumexp": Rule(lambda xs, p, node: numerics.logsumexp(xs[0], p[0], p[1])),
    "softmax": Rule(lambda xs, p, node: numerics.softmax(xs[0], p[0])),
    "log_softmax": Rule(lambda xs, p, node: numerics.log_softmax(xs[0], p[0])),
    "cumsum": Rule(lambda xs, p, node: np.cumsum(xs[0], axis=p[0]) if xs[0].ndim
                   else xs[0].copy()),
    "matmul": Rule(lambda xs, p, node: threads.matmul(xs[0], xs[1])),
    "reshape": Rule(lambda xs, p, node: xs[0].reshape(node.shape)),
    "permute": Rule(lambda xs, p, node: np.transpose(xs[0], p[0])),
    "expand": Rule(lambda xs, p, node: np.broadcast_to(xs[0], node.shape)),
    "getitem": Rule(_getitem, live_params=("index",)),
    "cat": Rule(lambda xs, p, node: np.concatenate(xs, axis=p[0])),
    "stack": Rule(lambda xs, p, node: np.stack(xs, axis=p[0])),
}
