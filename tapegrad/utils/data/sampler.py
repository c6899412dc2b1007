"""Samplers: which indices a DataLoader reads, in which order (PyTorch's algorithms).

Random draws use tapegrad's PyTorch-compatible generator, as PyTorch's samplers do: with
``generator=None`` a ``RandomSampler`` seeds a fresh ``Generator`` from the default one on each
pass (``tapegrad.manual_seed`` makes every epoch's order repeatable and PyTorch's), then draws
``randperm``/``randint`` from it. ``generator`` may also be a ``tapegrad.Generator``, or, as
before, a ``numpy.random.Generator`` or an int seed (numpy's streams, not PyTorch's).
"""
from __future__ import annotations

import itertools

import numpy as np

from ...random import Generator
from ...random.generator import _gen


def _numpy_rng(generator) -> np.random.Generator:
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, a tapegrad.Generator, a numpy.random.Generator or "
                    f"an int seed, got {type(generator).__name__}")


def _is_torch_gen(generator) -> bool:
    return generator is None or isinstance(generator, Generator)


def _fresh_generator() -> Generator:
    """PyTorch's ``Generator().manual_seed(int(torch.empty((), dtype=torch.int64).random_()))``."""
    seed = int(_gen(None).random64(1)[0] % np.uint64(1 << 63))
    return Generator().manual_seed(seed)


def randperm(n: int, generator=None) -> list[int]:
    """A random permutation of range(n) as a list, from ``generator``."""
    if _is_torch_gen(generator):
        return _gen(generator).permutation(n).tolist()
    if hasattr(generator, "randperm"):
        return [int(i) for i in generator.randperm(n)]
    return _numpy_rng(generator).permutation(n).tolist()


class Sampler:
    """Base class: an iterable over indices (or lists of indices) of a dataset."""

    def __init__(self, data_source=None) -> None:
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Samples elements sequentially, always in the same order."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Samples elements randomly: a fresh permutation per pass, or ``num_samples`` draws with
    replacement."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = _fresh_generator()
        if self.replacement:
            if isinstance(generator, Generator):
                for _ in range(self.num_samples // 32):
                    yield from generator.integers(32, 0, n).tolist()
                yield from generator.integers(self.num_samples % 32, 0, n).tolist()
                return
            rng = _numpy_rng(generator)
            for _ in range(self.num_samples // 32):
                yield from rng.integers(0, n, size=32).tolist()
            yield from rng.integers(0, n, size=self.num_samples % 32).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator)
            yield from randperm(n, generator)[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """Samples elements randomly from a given list of indices, without replacement."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Samples ``num_samples`` indices with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, np.float64)
        if w.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        if _is_torch_gen(self.generator):
            from ...random import multinomial
            from ...tensor import Tensor
            idx = multinomial(Tensor._make(self.weights), self.num_samples, self.replacement,
                              generator=self.generator)
            yield from idx._data.tolist()
            return
        rng = _numpy_rng(self.generator)
        p = self.weights / self.weights.sum()
        yield from rng.choice(len(p), size=self.num_samples, replace=self.replacement,
                              p=p).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Wraps another sampler to yield lists of ``batch_size`` indices."""

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        if self.drop_last:
            for batch in zip(*[it] * self.batch_size):
                yield list(batch)
        else:
            batch = list(itertools.islice(it, self.batch_size))
            while batch:
                yield batch
                batch = list(itertools.islice(it, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
