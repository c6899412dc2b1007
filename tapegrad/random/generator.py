"""The Mersenne twister (mt19937) seeded as PyTorch seeds it, ``Generator`` with its state in
PyTorch's layout, and the default generator with its module-level functions."""
from __future__ import annotations

import contextlib
import os
import time

import numpy as np

from .transforms import _fma64, _normal_fill


_N = 624


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
        from ..creation import _finish
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
