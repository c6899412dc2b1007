"""``torch.func``'s differentiation transforms: grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian (``functional_call`` is in ``modules``).

A transform gives the function fresh copies of its differentiated arguments and differentiates
with respect to those: a fresh leaf for a tensor that does not require grad, a recorded view of
one that does (so an enclosing transform, or ordinary autograd, differentiates through the
result). Reverse transforms run ``autograd.grad`` and keep the graph (``create_graph``) exactly
when something outside can still differentiate the result: an argument that requires grad, or a
tensor the function captured that does. ``jvp``/``jacfwd`` run forward mode
(``autograd.forward_ad``); inside an open dual level they use the double-VJP trick, so forward
transforms nest too. ``hessian`` is ``jacfwd(jacrev(f))``.
"""
from __future__ import annotations

import contextlib

from ..grad_mode import enable_grad
from ..tape import TLS
from ..tensor import Tensor
from ._pytree import describe, flatten, unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize"]


# ---- arguments --------------------------------------------------------------------------
def _argnums(argnums, n: int) -> tuple:
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    out = []
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
        out.append(a % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums must be unique, got {argnums}")
    return tuple(out)


def _wrap(x, alive: list) -> Tensor:
    if not isinstance(x, Tensor):
        raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    if not x.dtype.is_floating_point:
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if x._rg:
        from ..forward import reshape
        return reshape(x, tuple(x.shape))  # a recorded view: gradients reach x
    leaf = x.detach().requires_grad_(True)
    leaf._transient = alive  # [False] once the transform that made it has returned
    return leaf


def _wrap_args(args: tuple, nums: tuple, alive: list):
    """``(args with the differentiated ones wrapped, their wrapped leaves, per argnum spec,
    whether any was already differentiable)``."""
    args = list(args)
    leaves, specs, outer = [], [], False
    for i in nums:
        flat, spec = flatten(args[i])
        outer = outer or any(isinstance(x, Tensor) and x._rg for x in flat)
        wrapped = [_wrap(x, alive) for x in flat]
        args[i] = unflatten(wrapped, spec)
        leaves.append(wrapped)
        specs.append(spec)
    return tuple(args), leaves, specs, outer


@contextlib.contextmanager
def _until_return(alive: list):
    try:
        yield
    finally:
        alive[0] = False


def _reaches_outside(outputs, mine) -> bool:
    """Whether the outputs' graph reaches a leaf that requires grad other than ``mine``: a
    tensor the function captured, that ordinary autograd or an enclosing transform may still
    differentiate. Leaves made by transforms that have returned are internal: ignored."""
    records = TLS.s.tape.records
    ids = {id(t) for t in mine}
    stack, seen = [], set()
    for o in outputs:
        if isinstance(o, Tensor) and o._rg:
            if o._slot is None:
                alive = o.__dict__.get("_transient")
                if id(o) not in ids and (alive is None or alive[0]):
                    return True
            else:
                stack.append(o._slot)
    while stack:
        s = stack.pop()
        if s in seen:
            continue
        seen.add(s)
        rec = records.get(s)
        if rec is None:
            continue
        leaf = rec.leaf
        if leaf is not None:
            alive = leaf.__dict__.get("_transient")
            if id(leaf) not in ids and (alive is None or alive[0]):
                return True
            continue
        stack.extend(i for i in rec.ins if i is not None)
    return False


def _grads(outputs, cotangents, inputs, create: bool) -> list:
    from ..autograd import grad
    from ..creation import zeros_like
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o._rg]
    if not pairs:
        return [zeros_like(x) for x in inputs]
    gs = grad([o for o, _ in pairs], list(inputs), [c for _, c in pairs], retain_graph=True,
              create_graph=create, allow_unused=True)
    return [zeros_like(x) if g is None else (g if create else g.detach())
            for g, x in zip(gs, inputs)]


def _detach(tree, create: bool):
    if create:
        return tree
    leaves, spec = flatten(tree)
    return unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def _split_aux(out, has_aux: bool, who: str):
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return out


# ---- reverse mode -----------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux: bool = False):
    """``f -> (df/d args[argnums], f(*args))`` for ``f`` returning a scalar tensor (with
    ``has_aux``, ``f`` returns ``(scalar, aux)`` and the result is ``(grad, (value, aux))``)."""
    who = "grad_and_value(f)(*args)"

    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        alive = [True]
        with enable_grad(), _until_return(alive):
            args, leaves, specs, outer = _wrap_args(args, nums, alive)
            output, aux = _split_aux(func(*args, **kwargs), has_aux, who)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"{who}: Expected f(*args) to return a Tensor, got "
                                   f"{type(output)}")
            if output.ndim != 0:
                raise RuntimeError(f"{who}: Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {output.ndim} dims. Maybe you wanted to use "
                                   "the vjp or jacrev APIs instead?")
            flat = [x for group in leaves for x in group]
            create = outer or _reaches_outside([output], flat)
            gs = _grads([output], [None], flat, create)
        out, k = [], 0
        for group, spec in zip(leaves, specs):
            out.append(unflatten(gs[k:k + len(group)], spec))
            k += len(group)
        g = out[0] if isinstance(argnums, int) else tuple(out)
        value = _detach(output, create)
        if has_aux:
            return g, (value, _detach(aux, create))
        return g, value

    wrapper.__name__ = getattr(func, "__name__", "wrapper")
    return wrapper


def vjp(func, *primals, has_aux: bool = False):
    """``(f(*primals), vjp_fn)`` (and ``aux`` with ``has_aux``): ``vjp_fn(cotangents)`` returns
    one gradient per primal, as a tuple; it can be called many times."""
    nums = tuple(range(len(primals)))
    alive = [True]
    with enable_grad(), _until_return(alive):
        leaves, specs, output, aux, out_flat, out_spec, flat, create = _run_wrapped(
            func, primals, {}, nums, alive, has_aux, "vjp(f, *primals)", "vjp(f, *primals)")

    def vjp_fn(cotangents, *, retain_graph: bool = True, create_graph: bool | None = None):
        ct_flat, ct_spec = flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree "
                               f"structure of outputs to the function. cotangents: "
                               f"{_short(ct_spec)}, primal output: {_short(out_spec)}")
        with enable_grad():
            gs = _grads(out_flat, ct_flat, flat, create or bool(create_graph))
        res, k = [], 0
        for group, spec in zip(leaves, specs):
            res.append(unflatten(gs[k:k + len(group)], spec))
            k += len(group)
        return tuple(res)

    result = (_detach(output, create), vjp_fn)
    return result + (_detach(aux, create),) if has_aux else result


def _run_wrapped(func, args, kwargs, nums, alive, has_aux, who: str, what: str) -> tuple:
    """Call ``func`` on the differentiated arguments wrapped (vjp, jacrev): the wrapped leaves
    and their structure, the output (flat, with its structure) and aux, whether the result
    must keep a graph. ``who``/``what`` name the caller in PyTorch's messages."""
    args, leaves, specs, outer = _wrap_args(args, nums, alive)
    output, aux = _split_aux(func(*args, **kwargs), has_aux, who)
    out_flat, out_spec = flatten(output)
    for o in out_flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{what}: Expected f to be a function that has only Tensor "
                               f"outputs, got: {type(o)}")
    flat = [x for group in leaves for x in group]
    return leaves, specs, output, aux, out_flat, out_spec, flat, \
        outer or _reaches_outside(out_flat, flat)


def _short(spec) -> str:
    if spec is None:
        return "*"
    typ, keys, children = spec
    inner = ", ".join(_short(c) for c in children)
    if typ is tuple:
        return f"({inner},)" if len(children) == 1 else f"({inner})"
    if typ is list:
        return f"[{inner}]"
    return describe(spec)


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None):
    """The Jacobian of ``func`` by reverse mode, one row per output element: for each output
    leaf, a tensor of shape ``output.shape + input.shape`` per differentiated input (nested as
    the outputs and ``argnums``, as PyTorch's). ``chunk_size`` is accepted; rows are computed
    one at a time."""
    from ..creation import zeros
    from ..forward import reshape, stack
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        alive = [True]
        with enable_grad(), _until_return(alive):
            leaves, specs, output, aux, out_flat, out_spec, flat, create = _run_wrapped(
                func, args, kwargs, nums, alive, has_aux, "jacrev(f)(*args)",
                "jacrev(f, ...)(*args)")
            per_out = []
            for o in out_flat:
                rows = [[] for _ in flat]
                ro = reshape(o, -1)
                for k in range(o.numel()):
                    gs = _grads([ro[k]], [None], flat, create)
                    for i, g in enumerate(gs):
                        rows[i].append(g)
                jac = []
                for i, x in enumerate(flat):
                    shape = tuple(o.shape) + tuple(x.shape)
                    jac.append(reshape(stack(rows[i]), shape) if rows[i]
                               else zeros(shape, dtype=x.dtype))
                per_out.append(jac)
        result = _assemble(per_out, leaves, specs, out_spec, isinstance(argnums, int))
        result = _detach(result, create)
        return (result, _detach(aux, create)) if has_aux else result

    return wrapper


def _assemble(per_out, leaves, specs, out_spec, single: bool):
    """Jacobian blocks ``per_out[output leaf][input leaf]`` into PyTorch's nesting: the outputs'
    tree, each leaf holding the argnums' trees (one tree for an int argnums)."""
    blocks = []
    for jac in per_out:
        trees, k = [], 0
        for group, spec in zip(leaves, specs):
            trees.append(unflatten(jac[k:k + len(group)], spec))
            k += len(group)
        blocks.append(trees[0] if single else tuple(trees))
    return unflatten(blocks, out_spec)


# ---- forward mode -----------------------------------------------------------------------
def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(f(*primals), J tangents)`` (and ``aux``), by forward mode: ``primals`` and
    ``tangents`` are tuples of the same structure."""
    from ..autograd import forward_ad as fwad
    from ..autograd.functional import _forward, _jvp_double_vjp
    who = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{who}: Expected primals to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    p_flat, p_spec = flatten(primals)
    t_flat, t_spec = flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{who}: Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents "
                           f"also must be. Got primals with structure {describe(p_spec)} and "
                           f"tangents with structure {describe(t_spec)}")
    for p, t in zip(p_flat, t_flat):
        if not isinstance(p, Tensor) or not isinstance(t, Tensor):
            raise RuntimeError(f"{who}: Expected primals and tangents to only contain Tensors, "
                               f"got {type(p if not isinstance(p, Tensor) else t)}")
    box = {}

    def flat_func(*xs):
        out, aux = _split_aux(func(*unflatten(list(xs), p_spec)), has_aux, who)
        o_flat, box["spec"] = flatten(out)
        for o in o_flat:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{who}: Expected f(*primals) to return only tensors, got "
                                   f"unsupported type {type(o)}")
        if fwad._LEVEL is not None and has_aux:  # aux leaves the level as plain tensors
            a_flat, a_spec = flatten(aux)
            aux = unflatten([fwad.unpack_dual(a).primal if isinstance(a, Tensor) else a
                             for a in a_flat], a_spec)
        box["aux"] = aux
        return tuple(o_flat)

    with enable_grad():
        if fwad._LEVEL is None:
            xs = tuple(x if x._rg else x.detach() for x in p_flat)
            (outs, _), jv = _forward(flat_func, xs, tuple(t_flat))
        else:  # inside a dual level (a nested jvp/jacfwd): forward mode by the double VJP
            outs, jv = _jvp_double_vjp(flat_func, tuple(p_flat), tuple(t_flat), True)
    spec = box["spec"]
    result = (unflatten(list(outs), spec), unflatten(list(jv), spec))
    return result + (box["aux"],) if has_aux else result


@contextlib.contextmanager
def randomness_mode(mode: str):
    """Random numbers inside a vmap/jacfwd: 'error' refuses them (PyTorch's error), 'same'
    gives every batch element the same ones, 'different' draws on."""
    from .. import random as _random
    if mode not in ("error", "different", "same"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {mode}")
    gen = _random.default_generator
    if mode != "error":
        state = gen.get_state() if mode == "same" else None
        yield (lambda: gen.set_state(state)) if mode == "same" else (lambda: None)
        return

    def refuse(n):
        raise RuntimeError("vmap: called random operation while in randomness error mode. "
                           "Please either use the 'same' or 'different' randomness flags on "
                           "vmap or perform the randomness operation out of vmap")
    had = "random32" in gen.__dict__
    prev = gen.__dict__.get("random32")
    gen.random32 = refuse
    try:
        yield lambda: None
    finally:
        if had:
            gen.random32 = prev
        else:
            del gen.random32


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian of ``func`` by forward mode, one column per input element (pushed with
    ``jvp``); the same nesting as ``jacrev``'s."""
    from ..creation import zeros, zeros_like
    from ..forward import reshape, stack

    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        flat_groups, specs = [], []
        for i in nums:
            f, s = flatten(args[i])
            for x in f:
                if not isinstance(x, Tensor):
                    raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
            flat_groups.append(f)
            specs.append(s)
        flat = [x for g in flat_groups for x in g]

        def flat_func(*xs):
            a, k = list(args), 0
            for i, group, spec in zip(nums, flat_groups, specs):
                a[i] = unflatten(list(xs[k:k + len(group)]), spec)
                k += len(group)
            return func(*a, **kwargs)

        columns = [[] for _ in flat]
        with randomness_mode(randomness) as reset:
            reset()
            res = jvp(flat_func, tuple(flat), tuple(zeros_like(x) for x in flat),
                      has_aux=has_aux)
            out, aux = (res[0], res[2]) if has_aux else (res[0], None)
            for i, x in enumerate(flat):
                for k in range(x.numel()):
                    basis = [zeros_like(y) for y in flat]
                    basis[i].reshape(-1)[k] = 1.0
                    reset()
                    columns[i].append(jvp(flat_func, tuple(flat), tuple(basis),
                                          has_aux=has_aux)[1])
        out_flat, out_spec = flatten(out)
        per_out = []
        for j, o in enumerate(out_flat):
            jac = []
            for i, x in enumerate(flat):
                shape = tuple(o.shape) + tuple(x.shape)
                if columns[i]:
                    cols = [reshape(flatten(c)[0][j], -1) for c in columns[i]]
                    jac.append(reshape(stack(cols, -1), shape))
                else:
                    jac.append(zeros(shape, dtype=o.dtype))
            per_out.append(jac)
        leaves = [g for g in flat_groups]
        result = _assemble(per_out, leaves, specs, out_spec, isinstance(argnums, int))
        return (result, aux) if has_aux else result

    return wrapper


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is the JVP at ``primals`` (each call
    pushes the tangents forward again)."""
    out = _detach(func(*primals), False)

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]

    return out, jvp_fn


def hessian(func, argnums=0):
    """``jacfwd(jacrev(func, argnums), argnums)``: forward over reverse, as PyTorch's."""
    return jacfwd(jacrev(func, argnums), argnums)


def grad(func, argnums=0, has_aux: bool = False):
    """``f -> df/d args[argnums]`` for ``f`` returning a scalar tensor (``(grad, aux)`` with
    ``has_aux``); nestable (``grad(grad(f))``), and composable with ``vmap``/``jacrev``."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    wrapper.__name__ = getattr(func, "__name__", "wrapper")
    return wrapper
