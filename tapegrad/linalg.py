"""``tapegrad.linalg``: torch.linalg, as recorded ops.

Products and solves (inv, det, slogdet, solve, cross, matrix_power, vector_norm) live with
matmul in ``tapegrad/forward/linalg.py``; the decompositions and what is built on them
(cholesky, qr, eigh, eigvalsh, svd, svdvals, pinv, lstsq, matrix_exp, matrix_norm, norm) in
``tapegrad/forward/decomp.py``. Their derivatives are rows of the op table written against
``xp`` (``tapegrad/ops.py``, ``tapegrad/linalg_vjps.py``), so they have gradients of every order.
"""
from __future__ import annotations

from .forward import (LinAlgError, cholesky, cholesky_ex, det, eigh, eigvalsh, inv, lstsq,
                      matrix_exp, matrix_norm, matrix_power, pinv, qr, slogdet, solve, svd,
                      svdvals, vector_norm)
from .forward import linalg_cross as cross
from .forward import linalg_norm as norm

__all__ = ["inv", "det", "slogdet", "solve", "vector_norm", "matrix_norm", "norm", "cross",
           "matrix_power", "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "svd",
           "svdvals", "pinv", "lstsq", "matrix_exp", "LinAlgError"]
