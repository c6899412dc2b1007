"""``tapegrad.autograd.functional``: jacobian, hessian, vjp, jvp, hvp, vhp, with PyTorch's
signatures. vjp, hessian, hvp and reverse-mode jacobian are built from ``autograd.grad`` (with
``create_graph`` where a second derivative is needed); jvp and ``jacobian(...,
strategy="forward-mode", vectorize=True)`` push tangents with ``autograd.forward_ad`` (inside an
open dual level jvp falls back to the double-vjp trick: J v = d/du (J^T u) v)."""
from __future__ import annotations

from ..grad_mode import enable_grad
from ..tensor import Tensor


def _as_tuple(x):
    return (x, False) if isinstance(x, tuple) else ((x,), True)


def _prepare(inputs, create_graph: bool):
    """Fresh leaves that require grad, so the caller's tensors are never touched."""
    out = []
    for x in inputs:
        if not isinstance(x, Tensor):
            raise TypeError(f"The inputs given to the function must be Tensors, got "
                            f"{type(x).__name__}")
        t = x if create_graph and x.requires_grad else x.detach()
        out.append(t if t.requires_grad else t.requires_grad_(True))
    return tuple(out)


def _grad(outputs, inputs, grad_outputs=None, create_graph=False):
    from . import grad
    outs = [o for o in outputs if o.requires_grad]
    if not outs:
        return tuple(None for _ in inputs)
    gos = None if grad_outputs is None else [g for o, g in zip(outputs, grad_outputs)
                                            if o.requires_grad]
    return grad(outs, inputs, gos, retain_graph=True, create_graph=create_graph,
                allow_unused=True)


def _zeros_for(gs, inputs):
    from ..creation import zeros_like
    return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, inputs))


def _result(x, create_graph):
    return x if create_graph else x.detach()


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    with enable_grad():
        inputs, single_in = _as_tuple(inputs)
        inputs = _prepare(inputs, create_graph)
        outputs, single_out = _as_tuple(func(*inputs))
        if v is None:
            if len(outputs) != 1 or outputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            v = (None,)
        else:
            v, _ = _as_tuple(v)
        gs = _zeros_for(_grad(outputs, inputs, v, create_graph), inputs)
    outs = tuple(_result(o, create_graph) for o in outputs)
    gs = tuple(_result(g, create_graph) for g in gs)
    return (outs[0] if single_out else outs), (gs[0] if single_in else gs)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``, by forward mode (``autograd.forward_ad``)."""
    from . import forward_ad as fwad
    if fwad._LEVEL is not None:  # a dual level is open: levels do not nest
        return _jvp_double_vjp(func, inputs, v, create_graph)
    inputs, single_in = _as_tuple(inputs)
    if v is None:
        if len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        from ..creation import ones_like
        v = (ones_like(inputs[0]),)
    else:
        v, _ = _as_tuple(v)
    with enable_grad():
        inputs = _prepare(inputs, create_graph) if create_graph else _plain(inputs)
        outputs, jv = _forward(func, inputs, v)
    outs = tuple(_result(o, create_graph) for o in outputs[0])
    jv = tuple(_result(j, create_graph) for j in jv)
    return (outs[0] if outputs[1] else outs), (jv[0] if outputs[1] else jv)


def _plain(inputs):
    for x in inputs:
        if not isinstance(x, Tensor):
            raise TypeError(f"The inputs given to the function must be Tensors, got "
                            f"{type(x).__name__}")
    return tuple(x.detach() for x in inputs)


def _forward(func, inputs, tangents):
    """Run ``func`` on dual tensors: ``((outputs, single), tangents of the outputs)``, zeros
    where an output has none."""
    from . import forward_ad as fwad
    from ..creation import zeros_like
    if len(tangents) != len(inputs):
        raise RuntimeError(f"v has {len(tangents)} tensors but the inputs have {len(inputs)}")
    with fwad.dual_level():
        duals = tuple(fwad.make_dual(x, t) for x, t in zip(inputs, tangents))
        outputs, single_out = _as_tuple(func(*duals))
        pairs = [fwad.unpack_dual(o) for o in outputs]
        outs = tuple(p.primal for p in pairs)
        jv = tuple(zeros_like(o) if p.tangent is None else p.tangent
                   for p, o in zip(pairs, outs))
    return (outs, single_out), jv


def _jvp_double_vjp(func, inputs, v=None, create_graph: bool = False):
    from ..creation import zeros_like
    with enable_grad():
        inputs, single_in = _as_tuple(inputs)
        inputs = _prepare(inputs, True)
        if v is None:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element.")
            v = (None,)
        else:
            v, _ = _as_tuple(v)
        outputs, single_out = _as_tuple(func(*inputs))
        us = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        gs = _grad(outputs, inputs, us, create_graph=True)  # J^T u, linear in u
        pairs = [(g, vi) for g, vi in zip(gs, v) if g is not None and g.requires_grad]
        if pairs:
            from . import grad
            from ..creation import ones_like
            jv = grad([g for g, _ in pairs], us,
                      [ones_like(g) if vi is None else vi for g, vi in pairs],
                      retain_graph=True, create_graph=create_graph, allow_unused=True)
        else:
            jv = tuple(None for _ in us)
        jv = _zeros_for(jv, outputs)
    outs = tuple(_result(o, create_graph) for o in outputs)
    jv = tuple(_result(j, create_graph) for j in jv)
    return (outs[0] if single_out else outs), (jv[0] if single_out else jv)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """Shape ``output.shape + input.shape`` per (output, input) pair, nested as PyTorch's.
    ``strategy="forward-mode"`` (with ``vectorize=True``, as PyTorch requires) pushes one basis
    tangent per input element through ``func`` with forward mode; the default pulls one basis
    cotangent per output element back with reverse mode."""
    from ..creation import zeros
    from ..forward import reshape, stack
    assert strategy in ("forward-mode", "reverse-mode"), (
        'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
        'function has more outputs than inputs, "forward-mode" tends to be more performant. '
        'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    with enable_grad():
        inputs, single_in = _as_tuple(inputs)
        inputs = _prepare(inputs, create_graph)
        outputs, single_out = _as_tuple(func(*inputs))
        rows = []
        for out in outputs:
            flat = reshape(out, -1)
            per_input = [[] for _ in inputs]
            for k in range(flat.numel()):
                gs = _grad((flat[k],), inputs, None, create_graph)
                for i, (g, x) in enumerate(zip(gs, inputs)):
                    per_input[i].append(zeros(x.shape, dtype=x.dtype) if g is None else g)
            row = []
            for i, x in enumerate(inputs):
                if per_input[i]:
                    j = reshape(stack(per_input[i]), tuple(out.shape) + tuple(x.shape))
                else:
                    j = zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
                row.append(_result(j, create_graph))
            rows.append(tuple(row))
    return _shaped(rows, single_out, single_in)


def _shaped(rows: list, single_out: bool, single_in: bool):
    """A Jacobian's blocks (rows by output, columns by input) nested as PyTorch returns them:
    a tensor, a tuple, or a tuple of tuples, as the function had one or several of each."""
    if single_out and single_in:
        return rows[0][0]
    if single_out:
        return rows[0]
    if single_in:
        return tuple(r[0] for r in rows)
    return tuple(rows)


def _jacfwd(func, inputs, strict: bool, vectorize: bool):
    from ..creation import zeros_like
    from ..forward import reshape, stack
    if strict:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           '`strategy="forward-mode"` are not supported together (yet). Please '
                           'either set `strict=False` or `strategy="reverse-mode"`.')
    if not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian isonly implemented for `vectorize=True`.")
    inputs, single_in = _as_tuple(inputs)
    inputs = _plain(inputs)
    columns = []  # per input, per element: the tangents of the outputs
    single_out = True
    for i, x in enumerate(inputs):
        cols = []
        for k in range(x.numel()):
            basis = [zeros_like(y) for y in inputs]
            flat = basis[i].reshape(-1)
            flat[k] = 1.0
            (outs, single_out), jv = _forward(func, inputs, basis)
            cols.append(jv)
        columns.append(cols)
    if not any(columns):  # every input empty: one evaluation gives the outputs' shapes
        (outs, single_out), _ = _forward(func, inputs, [zeros_like(y) for y in inputs])
    rows = []
    for j, out in enumerate(outs):
        row = []
        for i, x in enumerate(inputs):
            shape = tuple(out.shape) + tuple(x.shape)
            if columns[i]:
                jac = stack([c[j].reshape(-1) for c in columns[i]], -1)
                row.append(reshape(jac, shape).detach())
            else:
                row.append(reshape(zeros_like(out).reshape(-1)[:0], shape) if 0 in shape
                           else zeros_like(out))
        rows.append(tuple(row))
    return _shaped(rows, single_out, single_in)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    inputs_t, single_in = _as_tuple(inputs)

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element.")
        return _zeros_for(_grad((out,), xs, None, create_graph=True), xs)

    assert outer_jacobian_strategy in ("forward-mode", "reverse-mode"), (
        'Expected strategy to be either "forward-mode" or "reverse-mode".')
    jac = jacobian(gradient, inputs_t, create_graph=create_graph, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return jac[0][0] if single_in else jac


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """H v for a scalar function; the Hessian is symmetric, so this is also vhp."""
    with enable_grad():
        inputs, single_in = _as_tuple(inputs)
        inputs = _prepare(inputs, True)
        out = func(*inputs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hvp should return a single Tensor with a "
                               "single element.")
        gs = _zeros_for(_grad((out,), inputs, None, create_graph=True), inputs)
        v, _ = _as_tuple(v) if v is not None else ((None,), True)
        from . import grad
        pairs = [(g, vi) for g, vi in zip(gs, v) if g.requires_grad]
        hv = grad([g for g, _ in pairs], inputs, [vi for _, vi in pairs], retain_graph=True,
                  create_graph=create_graph, allow_unused=True) if pairs else (None,) * len(gs)
        hv = _zeros_for(hv, inputs)
    res = _result(out, create_graph)
    hv = tuple(_result(h, create_graph) for h in hv)
    return res, (hv[0] if single_in else hv)


vhp = hvp
