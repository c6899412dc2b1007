"""The numpy computations of the ops whose forward is more than one numpy call, written once:
the eager forward and ``tapegrad.compile``'s replay both call these, so a replayed value is the
eager value bit for bit."""
from __future__ import annotations

import numpy as np


def softmax(xa: np.ndarray, d: int) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``d``, shifted by the maximum."""
    e = np.exp(xa - np.amax(xa, axis=d, keepdims=True))
    return e / np.sum(e, axis=d, keepdims=True)


def log_softmax(xa: np.ndarray, d: int) -> np.ndarray:
    """``log(softmax(x))`` along ``d``, shifted by the maximum."""
    shifted = xa - np.amax(xa, axis=d, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=d, keepdims=True))


def logsumexp(xa: np.ndarray, dims, keepdim: bool) -> np.ndarray:
    """``log(sum(exp(x)))`` over ``dims`` (None: all), shifted by the (finite) maximum."""
    m = np.amax(xa, axis=dims, keepdims=True) if xa.size else np.zeros((1,) * xa.ndim, xa.dtype)
    m = np.where(np.isfinite(m), m, 0)
    data = np.log(np.sum(np.exp(xa - m), axis=dims, keepdims=True)) + m
    if not keepdim:
        data = np.squeeze(data, axis=dims) if dims is not None else data.reshape(())
    return np.asarray(data, dtype=xa.dtype)
