"""Finite-difference checks of gradients: ``gradcheck`` and ``gradgradcheck``."""
from __future__ import annotations

import numpy as np

from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class GradcheckError(RuntimeError):
    pass


def _outputs(fn, inputs) -> tuple:
    out = fn(*inputs)
    return (out,) if isinstance(out, Tensor) else tuple(out)


def numerical_jacobian(fn, inputs, i: int, eps: float) -> list[np.ndarray]:
    """Central differences of every output with respect to ``inputs[i]``."""
    x = inputs[i]
    flat = x._data.reshape(-1)  # a view: perturbs x in place
    with no_grad():
        outs = _outputs(fn, inputs)
    jac = [np.zeros((x._data.size, o._data.size)) for o in outs]
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        with no_grad():
            plus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
        flat[k] = orig - eps
        with no_grad():
            minus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
        flat[k] = orig
        for j in range(len(outs)):
            jac[j][k] = (plus[j] - minus[j]) / (2 * eps)
    return jac


def analytical_jacobian(fn, inputs, i: int) -> list[np.ndarray]:
    from . import grad
    outs = _outputs(fn, inputs)
    x = inputs[i]
    jac = [np.zeros((x._data.size, o._data.size)) for o in outs]
    for j, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for k in range(o._data.size):
            seed = np.zeros(o._data.size, o._data.dtype)
            seed[k] = 1
            (g,) = grad(o, x, Tensor._make(seed.reshape(o._data.shape)), retain_graph=True,
                        allow_unused=True)
            if g is not None:
                jac[j][:, k] = g._data.reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **unused) -> bool:
    """Compare backward's Jacobian with central finite differences, for every input that
    requires grad. Inputs should be float64."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            continue
        num = numerical_jacobian(func, inputs, i, eps)
        ana = analytical_jacobian(func, inputs, i)
        for j, (n, a) in enumerate(zip(num, ana)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {j} with respect to input "
                                     f"{i},\nnumerical:{n}\nanalytical:{a}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, **unused) -> bool:
    """gradcheck of the first derivative (built with create_graph=True)."""
    from . import grad
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._make(rng.standard_normal(o.shape).astype(o._data.dtype))
                             for o in outs)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]

    def first_derivative(*xs):
        with enable_grad():  # the finite differences run under no_grad; this needs a graph
            outs = _outputs(func, xs)
            gs = grad(outs, diff, grad_outputs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
