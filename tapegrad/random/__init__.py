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

The package: ``generator`` (mt19937, ``Generator``, the default generator and its functions),
``transforms`` (raw draws to floats: fused multiply-adds, float32 log/sincos, the normal fill),
``sampling`` (the in-place fills, ``bernoulli``, ``multinomial``, bound as Tensor methods).
"""
from .generator import (Generator, default_generator, fork_rng, get_rng_state, initial_seed,
                        manual_seed, seed, set_rng_state)
from .sampling import bernoulli, multinomial

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng", "bernoulli", "multinomial"]
