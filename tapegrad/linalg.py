"""``tapegrad.linalg``: torch.linalg, as recorded ops.

Products and solves (inv, det, slogdet, solve, cross, matrix_power, vector_norm) live with
matmul in ``tapegrad/forward/linalg.py``; the decompositions and what is built on them
(cholesky, qr, eigh, eigvalsh, svd, svdvals, pinv, lstsq, matrix_exp, matrix_norm, norm) in
``tapegrad/forward/decomp.py``; solve_triangular, vecdot, multi_dot, matrix_rank and cond in
``tapegrad/forward/matrix.py``; the LU family in ``tapegrad/forward/lu.py``. Their derivatives
are rows of the op table written against ``xp`` (``tapegrad/ops.py``,
``tapegrad/linalg_vjps.py``), so they have gradients of every order.
"""
from __future__ import annotations

from .forward import (LinAlgError, cholesky, cholesky_ex, cond, det, eigh, eigvalsh, inv,
                      lstsq, matrix_exp, matrix_norm, matrix_power, matrix_rank, multi_dot, pinv,
                      qr, slogdet, solve, solve_triangular, svd, svdvals, tensorinv,
                      tensorsolve, vander, vecdot, vector_norm)
from .forward import inv_ex, lu, lu_factor, lu_factor_ex, lu_solve, solve_ex
from .forward import linalg_cross as cross
from .forward import linalg_diagonal as diagonal
from .forward import linalg_matmul as matmul
from .forward import linalg_norm as norm

__all__ = ["inv", "det", "slogdet", "solve", "solve_triangular", "vector_norm", "matrix_norm",
           "norm", "cross", "matrix_power", "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh",
           "svd", "svdvals", "pinv", "lstsq", "matrix_exp", "matrix_rank", "cond", "vecdot",
           "multi_dot", "matmul", "diagonal", "vander", "tensorinv", "tensorsolve", "lu",
           "lu_factor", "lu_factor_ex", "lu_solve", "inv_ex", "solve_ex", "LinAlgError"]
