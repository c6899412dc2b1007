"""Random tensors from the generator: the in-place fills (``uniform_``, ``normal_``,
``bernoulli_``, ``exponential_``, ``random_``), ``bernoulli`` and ``multinomial``, bound as
Tensor methods."""
from __future__ import annotations

import numpy as np

from .generator import _gen


# -- tensor-level functions and in-place methods ----------------------------------------------
def _tensor_cls():
    from ..tensor import Tensor
    return Tensor


def _fill_inplace(self, values: np.ndarray, name: str):
    from ..forward.inplace import _fill_like, inplace
    return inplace(self, lambda x: _fill_like(x, values.reshape(x._data.shape), name))


_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                 "uint8": "Byte", "bool": "Bool", "float16": "Half", "float32": "Float",
                 "float64": "Double"}


def _check_float(dt: np.dtype, what: str) -> np.dtype:
    """PyTorch's error for a floating-point kernel asked for an integer dtype."""
    dt = np.dtype(dt)
    if dt.kind != "f":
        name = _SCALAR_NAMES.get(dt.name, dt.name)
        raise RuntimeError(f"\"{what}\" not implemented for '{name}'")
    return dt


def _float_only(self, what: str) -> np.dtype:
    return _check_float(self._data.dtype, what)


def _uniform_(self, from_=0.0, to=1.0, *, generator=None):
    """Fills ``self`` in place from U(from, to): PyTorch's values for the same seed."""
    dt = _float_only(self, "check_uniform_bounds")
    vals = _gen(generator).uniform(self._data.size, dt, from_, to)
    return _fill_inplace(self, vals, "UniformBackward0")


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fills ``self`` in place from N(mean, std**2): PyTorch's values for the same seed."""
    dt = _float_only(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    vals = _gen(generator).normal(self._data.size, dt, mean, std,
                                  contiguous=self._data.flags.c_contiguous)
    return _fill_inplace(self, vals, "NormalBackward0")


def _exponential_(self, lambd=1.0, *, generator=None):
    """Fills ``self`` in place from the exponential distribution of rate ``lambd``."""
    dt = _float_only(self, "exponential_cpu")
    vals = _gen(generator).exponential(self._data.size, lambd).astype(dt)
    return _fill_inplace(self, vals, "ExponentialBackward0")


def _bernoulli_(self, p=0.5, *, generator=None):
    """Fills ``self`` in place with 0/1 draws of probability ``p`` (a number or a tensor)."""
    gen = _gen(generator)
    dt = self._data.dtype
    if hasattr(p, "_data"):
        pa = np.broadcast_to(p._data, self._data.shape)
        vals = gen.bernoulli(pa, dt)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        vals = (gen.uniform(self._data.size, np.float64) < p).astype(dt)
    return _fill_inplace(self, vals, "BernoulliBackward0")


def _random_(self, from_=0, to=None, *, generator=None):
    """Fills ``self`` in place with integers in ``[from, to)``; ``random_(to)`` starts at 0 and
    ``random_()`` covers the dtype's exactly representable non-negative integers."""
    gen = _gen(generator)
    dt = self._data.dtype
    n = self._data.size
    if to is None and from_ != 0:
        from_, to = 0, from_
    if to is not None:
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={from_} >= to={to}")
        vals = gen.integers(n, int(from_), int(to))
    elif dt == np.float64:
        vals = gen.random64(n) % np.uint64((1 << 53) + 1)
    elif dt == np.float32:
        vals = gen.random32(n) % np.uint64((1 << 24) + 1)
    elif dt == np.int64:
        vals = gen.random64(n) % np.uint64(1 << 63)
    elif dt == np.bool_:
        vals = gen.random32(n) & np.uint64(1)
    else:
        vals = gen.random32(n) % np.uint64(int(np.iinfo(dt).max) + 1)
    return _fill_inplace(self, vals.astype(dt), "RandomBackward0")


def bernoulli(input, p=None, *, generator=None):
    """0/1 draws with the probabilities in ``input`` (or the number ``p``), in ``input``'s
    dtype: PyTorch's values for the same seed. Not differentiable."""
    Tensor = _tensor_cls()
    x = input if isinstance(input, Tensor) else Tensor._make(np.asarray(input))
    out = Tensor._make(np.empty_like(x._data))
    if p is None:
        pa = x._data
        if np.any((pa < 0) | (pa > 1)):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        out._data[...] = _gen(generator).bernoulli(pa, x._data.dtype)
        return out
    return _bernoulli_(out, p, generator=generator)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` indices per row drawn with the (unnormalised) weights in ``input`` (1-D
    or 2-D): PyTorch's values for the same seed (inverse CDF for draws with replacement,
    exponential races otherwise and for one draw)."""
    Tensor = _tensor_cls()
    x = input if isinstance(input, Tensor) else Tensor._make(np.asarray(input))
    p = x._data
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if p.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{x.dtype.name.capitalize()}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n_cat = p.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if np.any(p < 0):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                           "< 0)")
    if not np.all(np.isfinite(p)):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry = "
                           "infinity or NaN)")
    rows = p.reshape(-1, n_cat)
    gen = _gen(generator)
    if not replacement or num_samples == 1:
        if np.any(rows.sum(-1) <= 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        q = gen.exponential(rows.size, 1.0).astype(p.dtype).reshape(rows.shape)
        r = rows / q
        if num_samples == 1:
            idx = np.argmax(r, axis=-1)[:, None]
        else:
            idx = np.argsort(-r, axis=-1, kind="stable")[:, :num_samples]
    else:
        idx = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        for i, row in enumerate(rows):
            cum = np.cumsum(row)
            total = cum[-1]
            if not total > 0:
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
            cum = cum / total
            cum[-1] = 1
            u = gen.uniform(num_samples, np.float64)
            idx[i] = np.searchsorted(cum.astype(np.float64), u, side="left")
    idx = idx.astype(np.int64)
    return Tensor._make(idx.reshape(p.shape[:-1] + (num_samples,)))


def _bind() -> None:
    Tensor = _tensor_cls()
    for name, fn in [("uniform_", _uniform_), ("normal_", _normal_), ("bernoulli_", _bernoulli_),
                     ("exponential_", _exponential_), ("random_", _random_)]:
        fn.__name__ = name
        setattr(Tensor, name, fn)

    def _bernoulli_method(self, p=None, *, generator=None):
        return bernoulli(self, p, generator=generator)

    def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
        return multinomial(self, num_samples, replacement, generator=generator)

    _bernoulli_method.__name__, _bernoulli_method.__doc__ = "bernoulli", bernoulli.__doc__
    _multinomial_method.__name__, _multinomial_method.__doc__ = "multinomial", multinomial.__doc__
    Tensor.bernoulli = _bernoulli_method
    Tensor.multinomial = _multinomial_method


_bind()
