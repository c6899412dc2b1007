"""``torch.func``: composable transforms, ``grad grad_and_value vjp jvp jacrev jacfwd hessian
linearize functional_call stack_module_state vmap``, with PyTorch 2.13's signatures, nestable
(``grad(grad(f))``, ``jacrev(jacfwd(f))``, ``vmap(grad(f))``). See ``transforms``, ``modules``
and ``vmap`` (which maps by a loop: values are PyTorch's, speed is a loop's).

``grad`` also keeps tapegrad's HIPS-autograd style: given numpy arrays or Python numbers, ``f``
receives tensors and the gradients come back as numpy arrays; ``value_and_grad`` is that
style's ``(value, grad)``.
"""
from __future__ import annotations

from ..tensor import Tensor
from . import hips
from ._pytree import flatten
from .hips import value_and_grad
from .modules import functional_call, stack_module_state
from .transforms import grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from .transforms import grad as _func_grad
from .vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize",
           "functional_call", "stack_module_state", "vmap", "value_and_grad"]


def grad(func, argnums=0, has_aux: bool = False):
    """``torch.func.grad``: ``f -> df/d args[argnums]`` for ``f`` returning a scalar tensor
    (``(grad, aux)`` with ``has_aux``), nestable. Called with numpy arrays or Python numbers at
    ``argnums`` it is tapegrad's HIPS-style grad: gradients come back as numpy arrays."""
    fg = _func_grad(func, argnums, has_aux)
    hg = None if has_aux else hips.grad(func, argnums)

    def wrapper(*args, **kwargs):
        if hg is not None:
            nums = (argnums,) if isinstance(argnums, int) else argnums
            if isinstance(nums, tuple) and all(isinstance(i, int) and -len(args) <= i < len(args)
                                               for i in nums):
                leaves = [x for i in nums for x in flatten(args[i])[0]]
                if any(not isinstance(x, Tensor) for x in leaves):
                    return hg(*args, **kwargs)
        return fg(*args, **kwargs)

    wrapper.__name__ = getattr(func, "__name__", "grad")
    return wrapper
