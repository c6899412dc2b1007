"""``tapegrad.linalg``: torch.linalg's inv, det, solve, vector_norm and norm, as recorded ops.

Their derivatives are rows of the op table (``linalg_inv``, ``linalg_det``, ``linalg_solve``)
written against ``xp``, so they have gradients of every order; the forwards live with the other
matrix products in ``tapegrad/forward/linalg.py``.
"""
from __future__ import annotations

from .forward import det, inv, norm, solve, vector_norm

__all__ = ["inv", "det", "solve", "vector_norm", "norm"]
