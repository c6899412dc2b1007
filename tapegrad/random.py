"""PyTorch's CPU random numbers: a Mersenne twister seeded and transformed as PyTorch does.

The engine is mt19937 seeded with ``init_genrand`` on the low 32 bits of the seed (numpy's
``MT19937`` runs the same recurrence; only its seeding differs, so the state array is computed
here and handed to it, which gives fast bulk draws). On top of it, the transforms of PyTorch's CPU
kernels, written from their description:

- ``random()`` is one 32-bit draw; ``random64()`` is two, the first one the high half.
- uniform floats: float32 keeps the low 24 bits of one draw, float64 the low 53 of a 64-bit draw,
  times ``2**-digits``, then ``* (to - from) + from``; a value equal to ``to`` becomes ``from``.
- normal, contiguous tensors of 16 or more elements: every element is first filled with a uniform
  number, then each block of 16 becomes 8 Box-Muller pairs (``u1 = 1 - x[j]``, ``u2 = x[j + 8]``);
  a tail is done by redrawing the last 16 elements. float32 on an AVX2 machine uses Cephes-style
  ``log``/``sincos`` approximations (reproduced below), float64 the C library's functions.
- normal, fewer than 16 elements: a float64 Box-Muller from two 53-bit uniforms, whose second value
  is cached in the generator and served to the next scalar draw.
- integers in ``[low, high)``: ``low + draw % (high - low)``, a 32-bit draw when the range is below
  ``2**28``, a 64-bit one otherwise.
- ``randperm(n)``: Fisher-Yates forwards, ``swap(r[i], r[i + random() % (n - i)])``.
"""
from __future__ import annotations

import contextlib
import os
import time

import numpy as np

_N = 624


def _fma64(a, b, c):
    """``a * b + c`` rounded once, in float64, as the C compiler's fused multiply-add computes
    it (error-free product and sum, then one final rounding; exact but for rare ties)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ah = a * split
    ah = ah - (ah - a)
    al = a - ah
    bh = b * split
    bh = bh - (bh - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # p + e == a * b exactly
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)  # s + t == p + c exactly
    return s + (t + e)


def _init_genrand(seed: int) -> np.ndarray:
    key = np.empty(_N, dtype=np.uint32)
    x = seed & 0xFFFFFFFF
    key[0] = x
    for j in range(1, _N):
        x = (1812433253 * (x ^ (x >> 30)) + j) & 0xFFFFFFFF
        key[j] = x
    return key


class Generator:
    """A CPU random number generator giving PyTorch's streams for the same seed
    (``torch.Generator``): ``manual_seed``, ``seed``, ``initial_seed``, ``get_state`` /
    ``set_state`` (a uint8 tensor in PyTorch's 5056-byte layout)."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(67280421310721)

    # -- seeding and state ------------------------------------------------------------------
    def manual_seed(self, seed):
        """Seed the generator with the integer ``seed``; returns the generator."""
        seed = int(seed)
        if seed < 0:
            seed &= 0xFFFFFFFFFFFFFFFF
        self._seed = seed
        self._bits = np.random.MT19937(0)
        self._set_key(_init_genrand(seed), _N)
        self._fresh = True
        self._normal_cache = None
        self._float_normal_cache = None
        return self

    def seed(self) -> int:
        """Seed from a nondeterministic source and return that seed."""
        s = int.from_bytes(os.urandom(8), "little") ^ time.time_ns()
        s &= 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed the generator was last seeded with."""
        return self._seed

    def _set_key(self, key, pos):
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": np.asarray(key, dtype=np.uint32), "pos": int(pos)}}

    def get_state(self):
        """The generator's state as a uint8 tensor (PyTorch's byte layout)."""
        from .creation import _finish
        st = self._bits.state["state"]
        pos = int(st["pos"])
        buf = bytearray(5056)
        left, nxt = (1, 0) if self._fresh else (_N - pos + 1, pos)
        np.frombuffer(buf, dtype=np.uint64, count=1, offset=0)[:] = self._seed
        np.frombuffer(buf, dtype=np.int32, count=2, offset=8)[:] = (left, 1)
        np.frombuffer(buf, dtype=np.uint64, count=1, offset=16)[:] = nxt
        np.frombuffer(buf, dtype=np.uint64, count=_N, offset=24)[:] = st["key"]
        if self._normal_cache is not None:
            np.frombuffer(buf, dtype=np.float64, count=1, offset=24 + 8 * _N + 8)[:] = \
                self._normal_cache
            np.frombuffer(buf, dtype=np.int32, count=1, offset=24 + 8 * _N + 24)[:] = 1
        if self._float_normal_cache is not None:
            np.frombuffer(buf, dtype=np.float32, count=1, offset=5048)[:] = \
                self._float_normal_cache
            buf[5052] = 1
        return _finish(np.frombuffer(bytes(buf), dtype=np.uint8).copy(), False)

    def set_state(self, new_state):
        """Restore a state returned by ``get_state`` (here or by PyTorch); returns the
        generator."""
        arr = np.ascontiguousarray(np.asarray(getattr(new_state, "_data", new_state)))
        if arr.dtype != np.uint8:
            raise TypeError(f"expected a torch.ByteTensor, but got {arr.dtype}")
        if arr.size != 5056:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size 5056 but found the "
                               f"input RNG state size to be {arr.size}")
        buf = arr.tobytes()
        seed = int(np.frombuffer(buf, np.uint64, 1, 0)[0])
        left = int(np.frombuffer(buf, np.int32, 1, 8)[0])
        nxt = int(np.frombuffer(buf, np.uint64, 1, 16)[0])
        key = np.frombuffer(buf, np.uint64, _N, 24).astype(np.uint32)
        if not 1 <= left <= _N:
            raise RuntimeError("Invalid mt19937 state")
        self._seed = seed
        self._fresh = left == 1 and nxt == 0
        self._set_key(key, _N if left == 1 else nxt)
        valid = int(np.frombuffer(buf, np.int32, 1, 24 + 8 * _N + 24)[0])
        self._normal_cache = (float(np.frombuffer(buf, np.float64, 1, 24 + 8 * _N + 8)[0])
                              if valid else None)
        self._float_normal_cache = (float(np.frombuffer(buf, np.float32, 1, 5048)[0])
                                    if buf[5052] else None)
        return self

    def clone_state(self):
        """A copy of the internal state, for save/restore inside tapegrad."""
        return (self._seed, self._fresh, self._bits.state, self._normal_cache,
                self._float_normal_cache)

    # -- raw draws --------------------------------------------------------------------------
    def random32(self, n: int) -> np.ndarray:
        """``n`` raw 32-bit draws (as uint64)."""
        if n <= 0:
            return np.empty(0, dtype=np.uint64)
        self._fresh = False
        return self._bits.random_raw(n)

    def random64(self, n: int) -> np.ndarray:
        """``n`` 64-bit draws, each from two 32-bit ones (the first is the high half)."""
        r = self.random32(2 * n).reshape(n, 2) if n > 0 else np.empty((0, 2), np.uint64)
        return (r[:, 0] << np.uint64(32)) | r[:, 1]

    # -- distributions ----------------------------------------------------------------------
    def uniform(self, n: int, dtype, low=0.0, high=1.0) -> np.ndarray:
        """``n`` uniform numbers in ``[low, high)`` as PyTorch's ``uniform_`` makes them."""
        dtype = np.dtype(dtype)
        if dtype == np.float64:
            x = (self.random64(n) & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0 ** -53
            out = _fma64(x, float(high) - float(low), float(low))
        else:
            x = (self.random32(n) & np.uint64((1 << 24) - 1)).astype(np.float64) * 2.0 ** -24
            lo, hi = np.float32(low), np.float32(high)
            out = (x * np.float64(hi - lo) + np.float64(lo)).astype(np.float32)
            if dtype != np.float32:
                out = out.astype(dtype)
            high, low = dtype.type(high), dtype.type(low)
        out = out.astype(dtype, copy=False)
        out[out == high] = low
        return out

    def _scalar_normal(self) -> float:
        if self._normal_cache is not None:
            v, self._normal_cache = self._normal_cache, None
            return v
        u = (self.random64(2) & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0 ** -53
        u1, u2 = float(u[0]), float(u[1])
        r = np.sqrt(-2.0 * np.log1p(-u2))
        theta = 2.0 * np.pi * u1
        self._normal_cache = float(r * np.sin(theta))
        return float(r * np.cos(theta))

    def normal(self, n: int, dtype, mean=0.0, std=1.0, contiguous=True) -> np.ndarray:
        """``n`` normal numbers as PyTorch's ``normal_`` makes them for a tensor of ``n``
        elements (``contiguous=False`` takes the element-by-element path)."""
        dtype = np.dtype(dtype)
        if n >= 16 and contiguous and dtype in (np.float32, np.float64):
            return _normal_fill(self, n, dtype, mean, std)
        if n >= 16 and contiguous and dtype == np.float16:  # computed in float32, PyTorch's opmath
            return _normal_fill(self, n, np.dtype(np.float32), mean, std, buffered=True
                                ).astype(dtype)
        out = np.empty(n, dtype=np.float64)
        for i in range(n):
            out[i] = self._scalar_normal()
        return _fma64(out, float(std), float(mean)).astype(dtype)

    def integers(self, n: int, low: int, high: int) -> np.ndarray:
        """``n`` integers in ``[low, high)`` as PyTorch's ``random_(low, high)`` makes them."""
        rng = int(high) - int(low)
        raw = self.random64(n) if rng >= 1 << 28 else self.random32(n)
        return ((raw % np.uint64(rng)).astype(np.int64) + np.int64(low))

    def permutation(self, n: int) -> np.ndarray:
        """PyTorch's ``randperm(n)``."""
        r = np.arange(n, dtype=np.int64)
        if n > 1:
            z = (self.random32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
            z += np.arange(n - 1, dtype=np.int64)
            rl = r.tolist()
            for i, j in enumerate(z.tolist()):
                rl[i], rl[j] = rl[j], rl[i]
            r = np.array(rl, dtype=np.int64)
        return r

    def exponential(self, n: int, lambd: float) -> np.ndarray:
        """``n`` float64 exponential draws, ``-log1p(-u) / lambd`` with 53-bit uniforms."""
        return -1.0 / lambd * np.log1p(-self.uniform(n, np.float64))

    def keep_mask(self, shape, p: float, dtype) -> np.ndarray:
        """Dropout's mask: ``bernoulli_(1 - p)`` with one float64 uniform per element."""
        n = int(np.prod(shape, dtype=np.int64))
        return (self.uniform(n, np.float64) < 1 - p).astype(dtype).reshape(shape)

    def bernoulli(self, p: np.ndarray, dtype) -> np.ndarray:
        """One Bernoulli draw per element of ``p`` (PyTorch's ``bernoulli`` of a tensor):
        ``uniform < p`` with a float64 uniform when ``p`` is float64, float32 otherwise."""
        p = np.asarray(p)
        pdt = np.float64 if p.dtype == np.float64 else np.float32
        u = self.uniform(p.size, pdt).reshape(p.shape)
        return (u < p.astype(pdt)).astype(dtype)


# -- the vectorised normal fill ---------------------------------------------------------------
_f = np.float32


def _fma(a, b, c):
    """float32 fused multiply-add (the product is exact in float64)."""
    return (a.astype(np.float64) * np.float64(b) + np.float64(c)).astype(np.float32)


def _log_ps(x):
    """Cephes' single-precision log as PyTorch's AVX2 kernel computes it (x > 0; the compiler
    fuses its multiply-adds)."""
    x = np.maximum(x, np.array(0x00800000, np.int32).view(np.float32))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(np.float32) + _f(1)
    x = ((bits & ~0x7F800000) | np.array(0.5, np.float32).view(np.int32)).view(np.float32)
    mask = x < _f(0.707106781186547524)
    tmp = np.where(mask, x, _f(0))
    x = x - _f(1)
    e = e - np.where(mask, _f(1), _f(0))
    x = x + tmp
    z = x * x
    y = np.full_like(x, _f(7.0376836292E-2))
    for c in (-1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
              -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1):
        y = _fma(y, x, _f(c))
    y = y * x
    y = _fma(y, z, e * _f(-2.12194440e-4))
    y = y - z * _f(0.5)
    x = x + y
    return _fma(e, _f(0.693359375), x)


def _sincos_ps(x):
    """Cephes' single-precision sin and cos as PyTorch's AVX2 kernel computes them (x >= 0)."""
    y = x * _f(1.27323954473516)
    j = y.astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    swap_sin = (j & 4) != 0
    poly = (j & 2) == 0
    x = _fma(y, _f(-0.78515625), x)
    x = _fma(y, _f(-2.4187564849853515625e-4), x)
    x = _fma(y, _f(-3.77489497744594108e-8), x)
    neg_cos = ((~(j - 2)) & 4) != 0
    z = x * x
    c = np.full_like(x, _f(2.443315711809948E-005))
    c = _fma(c, z, _f(-1.388731625493765E-003))
    c = _fma(c, z, _f(4.166664568298827E-002))
    c = _fma(c * z, z, -(z * _f(0.5)))
    c = c + _f(1)
    s = np.full_like(x, _f(-1.9515295891E-4))
    s = _fma(s, z, _f(8.3321608736E-3))
    s = _fma(s, z, _f(-1.6666654611E-1))
    s = _fma(s * z, x, x)
    sin = np.where(poly, s, c)
    cos = np.where(poly, c, s)
    sin = np.where(swap_sin, -sin, sin)
    cos = np.where(neg_cos, -cos, cos)
    return sin, cos


def _fill16(u: np.ndarray, dtype, mean, std) -> np.ndarray:
    """Box-Muller on blocks of 16: ``u`` has shape (blocks, 16)."""
    u1 = 1 - u[:, :8]
    u2 = u[:, 8:]
    if dtype == np.float32:
        radius = np.sqrt(_f(-2) * _log_ps(u1))
        sin, cos = _sincos_ps(_f(2.0 * np.pi) * u2)
        n1, n2 = radius * cos, radius * sin
        m, s = np.float64(_f(mean)), np.float64(_f(std))
        # fma(n, std, mean) in float32: the product is exact in float64
        a = (n1.astype(np.float64) * s + m).astype(np.float32)
        b = (n2.astype(np.float64) * s + m).astype(np.float32)
    else:
        radius = np.sqrt(-2 * np.log(u1))
        theta = 2.0 * np.pi * u2
        a = _fma64(radius * np.cos(theta), std, mean)
        b = _fma64(radius * np.sin(theta), std, mean)
    return np.concatenate([a, b], axis=1)


def _normal_fill(gen: Generator, n: int, dtype, mean, std, buffered=False) -> np.ndarray:
    """PyTorch's fill: n uniforms, then blocks of 16, then a fresh 16 for a tail. ``buffered``
    (float16, computed in float32 by blocks) draws only the blocks' uniforms before the tail."""
    full = n // 16 * 16
    data = np.empty(n, dtype) if buffered else gen.uniform(n, dtype)
    if buffered:
        data[:full] = gen.uniform(full, dtype)
    data[:full] = _fill16(data[:full].reshape(-1, 16), dtype, mean, std).reshape(-1)
    if n % 16:
        tail = gen.uniform(16, dtype)
        data[n - 16:] = _fill16(tail.reshape(1, 16), dtype, mean, std).reshape(-1)
    return data


default_generator = Generator()
default_generator.seed()


def _gen(generator) -> Generator:
    return default_generator if generator is None else generator


def manual_seed(seed) -> Generator:
    """Seed the default generator: the random functions then give PyTorch's values for the same
    seed. Returns the default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from a nondeterministic source; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed of the default generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor (PyTorch's 5056-byte layout)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state from ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Context manager (``torch.random.fork_rng``): the default generator's state is restored
    on exit, so draws inside do not move the stream outside."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


# -- tensor-level functions and in-place methods ----------------------------------------------
def _tensor_cls():
    from .tensor import Tensor
    return Tensor


def _fill_inplace(self, values: np.ndarray, name: str):
    from .forward.inplace import _fill_like, inplace
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
