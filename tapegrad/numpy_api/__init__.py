"""numpy functions on tapegrad tensors: NEP 18 (``__array_function__``) and NEP 13
(``__array_ufunc__``), so HIPS-autograd-style code written with plain numpy records on the tape.

``np.dot(X, w)`` with ``w`` a tensor runs ``tapegrad`` ops, under numpy's argument names
(``axis``, ``keepdims``, ``ddof``, ``out=None``) and numpy's result conventions (``np.max``
returns values; ``np.sort`` returns the sorted values; ``np.split`` returns a list). Arrays and
tensors mix in either order. A numpy function or ufunc that is not in these tables, or an
argument they do not support, raises a TypeError naming the function when a gradient is wanted:
converting the tensor to an array would drop the gradient without a word. When no gradient is
wanted (tensors that do not require grad, or grad mode off), numpy computes on plain arrays.

``HANDLED`` (numpy function -> implementation, in ``functions``) and ``UFUNCS`` (in ``ufuncs``)
are the tables; ``dispatch`` is Tensor's side of both protocols; ``supported()`` lists both.
"""
from ._common import Unsupported
from .dispatch import array_function, array_ufunc, bind, supported, unsupported_error
from .functions import HANDLED
from .ufuncs import UFUNCS

__all__ = ["HANDLED", "UFUNCS", "Unsupported", "array_function", "array_ufunc", "bind",
           "supported", "unsupported_error"]
