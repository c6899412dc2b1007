"""The op table: every differentiable operation, and its derivative written exactly once.

Elementwise ops give one formula string per input over fixed names: ``g`` (the upstream
gradient), ``a``/``b``/``c`` (the inputs), ``out`` (the result) and the op's named scalar
parameters. The same string is read three ways: the interpreter evaluates it on numpy arrays,
the JIT renders it per element into a Numba loop, and evaluated on tensors it records itself on
the tape (higher-order gradients). Broadcasting is undone by the engine, never inside a rule.

Structural ops (reductions, matmul, shape ops, indexing) carry a VJP function written against an
array namespace ``xp``: numpy for the interpreter, tapegrad for higher-order gradients.
Their records are boundaries between fused JIT runs.
"""
from __future__ import annotations

import ast
from typing import Callable

import numpy as np

from . import specfun, threads
from .registry import upper

SAVED_NAMES = ("a", "b", "c", "out")


class Op:
    """One row of the table. ``uses[i]`` names what input ``i``'s gradient reads: only that is
    saved."""

    __slots__ = ("name", "node_name", "arity", "grads", "vjp", "params", "uses", "elementwise",
                 "_fns", "plans", "domain")

    def __init__(self, name, node_name, arity, grads=None, vjp=None, params=(), uses=None,
                 domain=""):
        self.name = name
        self.node_name = node_name
        self.arity = arity
        self.grads = grads
        self.vjp = vjp
        self.params = params
        self.elementwise = grads is not None
        # Where each input's derivative is defined: "r" real, "p" positive, "s" small |x|,
        # "b" boolean. Tests draw inputs from it, so a new op needs no new test code.
        self.domain = domain or "r" * arity
        if uses is None:
            uses = tuple(_names_in(f) if f else frozenset() for f in grads)
        self.uses = uses
        self._fns = {}
        # plans[mask]: which of (a, b, c, out) to save when the inputs in bit-mask ``mask`` need
        # gradients; precomputed because it is read on every recorded op.
        self.plans = tuple(_plan(uses, mask) for mask in range(8))

    def grad_fns(self, ns_name: str, ns: dict) -> tuple:
        """The formulas compiled once per namespace into ``f(g, a, b, c, out, *params)``."""
        fns = self._fns.get(ns_name)
        if fns is None:
            sig = ", ".join(("g",) + SAVED_NAMES + self.params)
            fns = tuple(eval(f"lambda {sig}: {f}", dict(ns)) if f else None for f in self.grads)
            self._fns[ns_name] = fns
        return fns

    def __repr__(self) -> str:
        return f"Op({self.name})"


NO_SAVE = (False, False, False, False)


def _plan(uses: tuple, mask: int) -> tuple:
    names = set()
    for i, u in enumerate(uses):
        if mask >> i & 1:
            names |= u
    plan = tuple(n in names for n in SAVED_NAMES)
    return NO_SAVE if plan == NO_SAVE else plan


def _names_in(formula: str) -> frozenset:
    names = {n.id for n in ast.walk(ast.parse(formula, mode="eval")) if isinstance(n, ast.Name)}
    return frozenset(names & set(SAVED_NAMES))


OPS: dict[str, Op] = {}


def _ew(name: str, node: str, *grads: str | None, params: tuple = (), domain: str = "") -> None:
    OPS[name] = Op(name, node, len(grads), grads=grads, params=params, domain=domain)


def _st(name: str, node: str, arity: int, uses: tuple, params: tuple = ()):
    def register(vjp: Callable) -> Callable:
        OPS[name] = Op(name, node, arity, vjp=vjp, params=params, uses=uses)
        return vjp
    return register


# ---- elementwise: one line per op, one formula per input ---------------------------------
_ew("add", "AddBackward0", "g", "g")
_ew("sub", "SubBackward0", "g", "-g")
_ew("mul", "MulBackward0", "g * b", "g * a")
_ew("div", "DivBackward0", "g / b", "-g * a / (b * b)", domain="rp")
_ew("pow", "PowBackward0", "where(b == 0, 0 * g, g * b * a ** (b - 1))",
    "g * where((a == 0) & (b >= 0), 0 * out, out * log(a))", domain="pr")
_ew("neg", "NegBackward0", "-g")
_ew("abs", "AbsBackward0", "g * sign(a)")
_ew("exp", "ExpBackward0", "g * out")
_ew("log", "LogBackward0", "g / a", domain="p")
_ew("log1p", "Log1PBackward0", "g / (1 + a)", domain="p")
_ew("expm1", "Expm1Backward0", "g * (out + 1)")
_ew("sqrt", "SqrtBackward0", "g / (2 * out)", domain="p")
_ew("rsqrt", "RsqrtBackward0", "-0.5 * g * out * out * out", domain="p")
_ew("sin", "SinBackward0", "g * cos(a)")
_ew("cos", "CosBackward0", "-g * sin(a)")
_ew("tan", "TanBackward0", "g * (1 + out * out)", domain="s")
_ew("tanh", "TanhBackward0", "g * (1 - out * out)")
_ew("sigmoid", "SigmoidBackward0", "g * out * (1 - out)")
_ew("relu", "ReluBackward0", "where(out > 0, g, 0 * g)")
_ew("leaky_relu", "LeakyReluBackward0", "where(a > 0, g, g * slope)", params=("slope",))
# Sample values of each op's parameters, for the tests and the JIT's checks.
PARAM_SAMPLES = {"leaky_relu": (0.01,), "clamp": (-0.5, 0.5)}
_ew("square", "PowBackward0", "2 * g * a")
_ew("reciprocal", "ReciprocalBackward0", "-g * out * out", domain="p")
_ew("sign", "SignBackward0", "0 * g")
_ew("floor", "FloorBackward0", "0 * g")
_ew("ceil", "CeilBackward0", "0 * g")
_ew("round", "RoundBackward0", "0 * g")
_ew("clamp", "ClampBackward1", "where((a >= lo) & (a <= hi), g, 0 * g)", params=("lo", "hi"))
_ew("maximum", "MaximumBackward0", "where(a > b, g, where(a == b, 0.5 * g, 0 * g))",
    "where(b > a, g, where(a == b, 0.5 * g, 0 * g))")
_ew("minimum", "MinimumBackward0", "where(a < b, g, where(a == b, 0.5 * g, 0 * g))",
    "where(b < a, g, where(a == b, 0.5 * g, 0 * g))")
_ew("where", "WhereBackward0", None, "where(a, g, 0 * g)", "where(a, 0 * g, g)", domain="brr")
_ew("atan", "AtanBackward0", "g / (1 + a * a)")
_ew("atan2", "Atan2Backward0", "g * b / (a * a + b * b)", "-g * a / (a * a + b * b)")
_ew("copy", "CloneBackward0", "g")  # clone, and dtype conversion (the engine casts g back)

# The numpy forward of each elementwise op. Kept beside the table so a test can check both.
def _sigmoid(a):
    # With e = exp(-|a|), which never overflows: 1 / (1 + e) for a >= 0, e / (1 + e) below.
    # Full precision for large negative a (a tanh form rounds those to 0), no warnings, and
    # 5x faster than exp(-logaddexp(0, -a)) on 1M float64 (31 ms -> 6 ms measured).
    e = np.exp(-np.abs(a))
    num = np.where(a >= 0, 1, e)
    return num / (1 + e)


FORWARD: dict[str, Callable] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "pow": np.power, "neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log,
    "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt,
    "rsqrt": lambda a: 1 / np.sqrt(a), "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "tanh": np.tanh, "sigmoid": _sigmoid, "relu": lambda a: np.maximum(a, 0),
    "leaky_relu": lambda a, slope: np.where(a > 0, a, a * slope),
    "square": np.square, "reciprocal": lambda a: 1 / a, "sign": np.sign,
    "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "clamp": lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi),
    "atan": np.arctan, "atan2": np.arctan2,
    "maximum": np.maximum, "minimum": np.minimum, "where": np.where, "copy": np.array,
}


# ---- pointwise math and activations (issue 13): PyTorch's derivatives.yaml, as rows --------
# Constants: 2/sqrt(pi), sqrt(pi)/2, ln 2, ln 10, 1/sqrt(2), 1/sqrt(2 pi), sqrt(2/pi), pi/180.
_ew("sinh", "SinhBackward0", "g * 0.5 * (exp(a) + exp(-a))")
_ew("cosh", "CoshBackward0", "g * 0.5 * (exp(a) - exp(-a))")
_ew("asinh", "AsinhBackward0", "g / sqrt(a * a + 1)")
_ew("acosh", "AcoshBackward0", "g / sqrt(a * a - 1)", domain="g")
_ew("atanh", "AtanhBackward0", "g / (1 - a * a)", domain="s")
_ew("asin", "AsinBackward0", "g / sqrt(1 - a * a)", domain="s")
_ew("acos", "AcosBackward0", "-g / sqrt(1 - a * a)", domain="s")
_ew("erf", "ErfBackward0", "g * 1.1283791670955126 * exp(-a * a)")
_ew("erfc", "ErfcBackward0", "-g * 1.1283791670955126 * exp(-a * a)")
_ew("erfinv", "ErfinvBackward0", "g * 0.886226925452758 * exp(out * out)", domain="s")
_ew("log2", "Log2Backward0", "g / (a * 0.6931471805599453)", domain="p")
_ew("log10", "Log10Backward0", "g / (a * 2.302585092994046)", domain="p")
_ew("exp2", "Exp2Backward0", "g * out * 0.6931471805599453")
_ew("hypot", "HypotBackward0", "g * a / out", "g * b / out")
_ew("logaddexp", "LogaddexpBackward0", "g / (1 + exp(b - a))", "g / (1 + exp(a - b))")
_ew("logaddexp2", "Logaddexp2Backward0", "g / (1 + exp((b - a) * 0.6931471805599453))",
    "g / (1 + exp((a - b) * 0.6931471805599453))")
_ew("fmod", "FmodBackward0", "g", "-g * trunc(a / b)", domain="rp")
_ew("remainder", "RemainderBackward0", "g", "-g * floor(a / b)", domain="rp")
_ew("trunc", "TruncBackward0", "0 * g")
_ew("frac", "FracBackward0", "g")
_ew("logit", "LogitBackward0", "g / (a * (1 - a))", domain="u")
_ew("xlogy", "XlogyBackward0", "where((a == 0) & (b <= 0), 0 * g, g * log(b))", "g * a / b",
    domain="rp")
_ew("sinc", "SincBackward0", "where(a == 0, 0 * g, g * (3.141592653589793 * a * cos("
    "3.141592653589793 * a) - sin(3.141592653589793 * a)) / (3.141592653589793 * a * a))")
_ew("deg2rad", "Deg2RadBackward0", "g * 0.017453292519943295")
_ew("rad2deg", "Rad2DegBackward0", "g * 57.29577951308232")
_ew("lerp", "LerpBackward1", "g * (1 - c)", "g * c", "g * (b - a)")
_ew("lerp_scalar", "LerpBackward0", "g * (1 - weight)", "g * weight", params=("weight",))
_ew("addcmul", "AddcmulBackward0", "g", "g * value * c", "g * value * b", params=("value",))
_ew("addcdiv", "AddcdivBackward0", "g", "g * value / c", "-g * value * b / (c * c)",
    params=("value",), domain="rrp")
_ew("softplus", "SoftplusBackward0", "where(a * beta > threshold, g, g / (1 + exp(-a * beta)))",
    params=("beta", "threshold"))
_ew("gelu", "GeluBackward0", "g * (0.5 * (1 + erf(a * 0.7071067811865476)) "
    "+ a * 0.3989422804014327 * exp(-0.5 * a * a))")
_ew("gelu_tanh", "GeluBackward0", "g * (0.5 * (1 + tanh(0.7978845608028654 * (a + 0.044715 * a "
    "* a * a))) + 0.5 * a * (1 - tanh(0.7978845608028654 * (a + 0.044715 * a * a * a)) ** 2) "
    "* 0.7978845608028654 * (1 + 0.134145 * a * a))")
_ew("silu", "SiluBackward0", "g / (1 + exp(-a)) * (1 + a * (1 - 1 / (1 + exp(-a))))")
_ew("mish", "MishBackward0", "g * (tanh(log(1 + exp(a))) + a / (1 + exp(-a)) "
    "* (1 - tanh(log(1 + exp(a))) ** 2))")
_ew("elu", "EluBackward0", "where(a > 0, g * scale, g * scale * alpha * input_scale "
    "* exp(a * input_scale))", params=("alpha", "scale", "input_scale"))
_ew("hardtanh", "HardtanhBackward0", "where((a > lo) & (a < hi), g, 0 * g)", params=("lo", "hi"))
_ew("hardsigmoid", "HardsigmoidBackward0", "where((a > -3) & (a < 3), g / 6, 0 * g)")
_ew("hardswish", "HardswishBackward0",
    "where(a < -3, 0 * g, where(a <= 3, g * (a / 3 + 0.5), g))")
_ew("logsigmoid", "LogSigmoidBackward0", "g / (1 + exp(a))")
PARAM_SAMPLES.update({"lerp_scalar": (0.3,), "addcmul": (0.5,), "addcdiv": (-0.7,),
                      "softplus": (1.5, 2.0), "elu": (1.2, 1.05, 0.8), "hardtanh": (-0.5, 0.7)})


def _pos(a):
    return np.minimum(a, 0)


def _lerp(a, b, w):
    # PyTorch's two-sided form: exact at both ends.
    d = b - a
    return np.where(np.abs(w) < 0.5, a + w * d, b - d * (1 - w))


def _xlogy(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = a * np.log(b)
    r = np.asarray(r)
    return np.where((a == 0) & ~np.isnan(b), np.zeros((), r.dtype), r)


def _softplus(a, beta, threshold):
    z = a * beta
    return np.where(z > threshold, a, (np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0)) / beta)


def _gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(0.7978845608028654 * (a + 0.044715 * a * a * a)))


def _logsigmoid(a):
    return -(np.log1p(np.exp(-np.abs(a))) + np.maximum(-a, 0))


FORWARD.update({
    "sinh": np.sinh, "cosh": np.cosh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "asin": np.arcsin, "acos": np.arccos, "erf": specfun.erf,
    "erfc": specfun.erfc, "erfinv": specfun.erfinv, "log2": np.log2, "log10": np.log10,
    "exp2": np.exp2, "hypot": np.hypot, "logaddexp": np.logaddexp, "logaddexp2": np.logaddexp2,
    "fmod": np.fmod, "remainder": np.remainder, "trunc": np.trunc,
    "frac": lambda a: a - np.trunc(a), "logit": lambda a: np.log(a / (1 - a)), "xlogy": _xlogy,
    "sinc": np.sinc, "deg2rad": np.deg2rad, "rad2deg": np.rad2deg,
    "lerp": _lerp, "lerp_scalar": _lerp,
    "addcmul": lambda a, b, c, value: a + value * b * c,
    "addcdiv": lambda a, b, c, value: a + value * b / c,
    "softplus": _softplus,
    "gelu": lambda a: 0.5 * a * (1 + specfun.erf(a * 0.7071067811865476)),
    "gelu_tanh": _gelu_tanh, "silu": lambda a: a * _sigmoid(a),
    "mish": lambda a: a * np.tanh(_softplus(a, 1.0, 20.0)),
    "elu": lambda a, alpha, scale, input_scale: scale * np.where(
        a > 0, a, alpha * np.expm1(_pos(a) * input_scale)),
    "hardtanh": lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi),
    "hardsigmoid": lambda a: np.minimum(np.maximum(a / 6 + 0.5, 0), 1),
    "hardswish": lambda a: a * np.minimum(np.maximum(a + 3, 0), 6) / 6,
    "logsigmoid": _logsigmoid,
})


# ---- structural: a VJP each, written against the namespace xp --------------------------
# Signature: vjp(xp, g, rec, a, b, out) -> one gradient (or None) per input.
# ``rec.params`` holds the op's static parameters, ``rec.in_shapes`` its inputs' shapes.
_NONE = frozenset()
_A = frozenset("a")
_B = frozenset("b")
_A_OUT = frozenset(("a", "out"))


def _keep(xp, g, rec, dims):
    """Re-insert reduced dimensions so g broadcasts against the input (keepdim is params[-1])."""
    if rec.params[-1] or dims is None and g.ndim == 0:
        return g
    shape = list(rec.in_shapes[0])
    for d in (range(len(shape)) if dims is None else dims):
        shape[d] = 1
    return xp.reshape(g, tuple(shape))


def _count(rec, dims) -> int:
    shape = rec.in_shapes[0]
    n = 1
    for d in (range(len(shape)) if dims is None else dims):
        n *= shape[d]
    return n


@_st("sum", "SumBackward1", 1, (_NONE,), params=("dims", "keepdim"))
def _sum_vjp(xp, g, rec, a, b, out):
    return (xp.broadcast_to(_keep(xp, g, rec, rec.params[0]), rec.in_shapes[0]),)


@_st("mean", "MeanBackward1", 1, (_NONE,), params=("dims", "keepdim"))
def _mean_vjp(xp, g, rec, a, b, out):
    dims = rec.params[0]
    g = _keep(xp, g, rec, dims) / _count(rec, dims)
    return (xp.broadcast_to(g, rec.in_shapes[0]),)


@_st("var", "VarBackward0", 1, (_A,), params=("dims", "correction", "keepdim"))
def _var_vjp(xp, g, rec, a, b, out):
    return (_var_backward(xp, _keep(xp, g, rec, dims=rec.params[0]), rec, a),)


def _var_backward(xp, g, rec, a):
    """PyTorch's var_backward: ``2 / (n - correction) * g * (a - mean)``. With no degrees of
    freedom left (n == correction) the factor is inf and the gradient NaN, as in PyTorch, not a
    ZeroDivisionError."""
    dims, correction = rec.params[0], rec.params[1]
    centred = a - xp.mean(a, axis=dims, keepdims=True)
    dof = _count(rec, dims) - correction
    return g * centred * (2.0 / dof if dof else float("inf"))


@_st("std", "StdBackward0", 1, (_A_OUT,), params=("dims", "correction", "keepdim"))
def _std_vjp(xp, g, rec, a, b, out):
    # PyTorch's std_backward: var's gradient of g / (2 std), taken as 0 where std == 0 (a
    # constant input), where the formula alone would give 0 / 0.
    dims = rec.params[0]
    sd = _keep(xp, out, rec, dims)
    g_var = xp.where(sd == 0, 0 * sd, _keep(xp, g, rec, dims) / (2 * sd))
    return (_var_backward(xp, g_var, rec, a),)


@_st("amax", "AmaxBackward0", 1, (_A_OUT,), params=("dims", "keepdim"))
def _amax_vjp(xp, g, rec, a, b, out):
    # Ties share the gradient evenly, as PyTorch's amax/amin and full max()/min() do.
    dims = rec.params[0]
    hit = xp.equal(a, _keep(xp, out, rec, dims))
    share = _keep(xp, g, rec, dims) / xp.sum(hit, axis=dims, keepdims=True)
    return (xp.where(hit, share, 0 * share),)


OPS["amin"] = Op("amin", "AminBackward0", 1, vjp=_amax_vjp, params=("dims", "keepdim"),
                 uses=(_A_OUT,))


@_st("max_dim", "MaxBackward0", 1, (_NONE,), params=("dim", "indices", "keepdim"))
def _max_dim_vjp(xp, g, rec, a, b, out):
    # Only the selected element receives the gradient (value_selecting_reduction_backward).
    dim, indices, keepdim = rec.params
    shape = rec.in_shapes[0]
    idx = indices if keepdim else np.expand_dims(indices, dim)
    positions = np.arange(shape[dim]).reshape([-1 if d == dim else 1 for d in range(len(shape))])
    g = g if keepdim else xp.expand_dims(g, dim)
    return (xp.where(positions == idx, g, 0 * g),)


@_st("prod", "ProdBackward1", 1, (_A_OUT,), params=("dims", "keepdim"))
def _prod_vjp(xp, g, rec, a, b, out):
    dims = rec.params[0]
    g, out = _keep(xp, g, rec, dims), _keep(xp, out, rec, dims)
    if xp is not NP or np.all(a != 0):
        return (g * out / a,)
    # With zeros in a, out / a is wrong: take the product of the others by exclusive cumprods.
    axis = None if dims is None else dims[0]
    flat = a.reshape(-1) if axis is None else np.moveaxis(a, axis, -1)
    left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.flip(np.concatenate(
        [flat[..., 1:], np.ones_like(flat[..., :1])], -1), -1), -1), -1)
    others = left * right
    others = others.reshape(a.shape) if axis is None else np.moveaxis(others, -1, axis)
    return (g * others,)


@_st("norm", "LinalgVectorNormBackward0", 1, (_A_OUT,), params=("p", "dims", "keepdim"))
def _norm_vjp(xp, g, rec, a, b, out):
    p, dims, keepdim = rec.params
    g, out = _keep(xp, g, rec, dims), _keep(xp, out, rec, dims)
    if p == 2:
        return (xp.where(out == 0, 0 * a, g * a / xp.where(out == 0, 1 + 0 * out, out)),)
    if p == 1:
        return (g * xp.sign(a),)
    if p == float("inf"):
        hit = xp.equal(xp.abs(a), out)
        return (xp.sign(a) * xp.where(hit, g / xp.sum(hit, axis=dims, keepdims=True), 0 * g),)
    scale = xp.where(out == 0, 0 * out, g / xp.where(out == 0, 1 + 0 * out, out) ** (p - 1))
    return (scale * xp.sign(a) * xp.abs(a) ** (p - 1),)


@_st("logsumexp", "LogsumexpBackward0", 1, (_A_OUT,), params=("dims", "keepdim"))
def _logsumexp_vjp(xp, g, rec, a, b, out):
    dims = rec.params[0]
    return (_keep(xp, g, rec, dims) * xp.exp(a - _keep(xp, out, rec, dims)),)


@_st("cumsum", "CumsumBackward0", 1, (_NONE,), params=("dim",))
def _cumsum_vjp(xp, g, rec, a, b, out):
    dim = rec.params[0]
    # The reversed cumulative sum, without a flip: total - cumsum + g.
    return (xp.sum(g, axis=dim, keepdims=True) - xp.cumsum(g, axis=dim) + g,)


@_st("softmax", "SoftmaxBackward0", 1, (frozenset(("out",)),), params=("dim",))
def _softmax_vjp(xp, g, rec, a, b, out):
    return (out * (g - xp.sum(g * out, axis=rec.params[0], keepdims=True)),)


@_st("log_softmax", "LogSoftmaxBackward0", 1, (frozenset(("out",)),), params=("dim",))
def _log_softmax_vjp(xp, g, rec, a, b, out):
    return (g - xp.exp(out) * xp.sum(g, axis=rec.params[0], keepdims=True),)


@_st("matmul", "MmBackward0", 2, (_B, _A))
def _matmul_vjp(xp, g, rec, a, b, out):
    sa, sb = rec.in_shapes
    need_a, need_b = rec.ins[0] is not None, rec.ins[1] is not None
    ga = gb = None
    if len(sa) == 1 and len(sb) == 1:
        ga = g * b if need_a else None
        gb = g * a if need_b else None
    elif len(sb) == 1:  # (..., n, k) @ (k,) -> (..., n)
        ge = xp.expand_dims(g, -1)
        ga = ge * b if need_a else None
        gb = xp.sum(ge * a, axis=tuple(range(len(sa) - 1)), keepdims=False) if need_b else None
    elif len(sa) == 1:  # (k,) @ (..., k, m) -> (..., m)
        ge = xp.expand_dims(g, -2)
        ga = xp.unbroadcast(xp.sum(ge * b, axis=-1, keepdims=False), sa) if need_a else None
        gb = xp.expand_dims(a, -1) * ge if need_b else None
    else:
        ga = xp.unbroadcast(xp.matmul(g, xp.swapaxes(b, -1, -2)), sa) if need_a else None
        gb = xp.unbroadcast(xp.matmul(xp.swapaxes(a, -1, -2), g), sb) if need_b else None
    return ga, gb


@_st("reshape", "ViewBackward0", 1, (_NONE,))
def _reshape_vjp(xp, g, rec, a, b, out):
    return (xp.reshape(g, rec.in_shapes[0]),)


@_st("permute", "PermuteBackward0", 1, (_NONE,), params=("axes",))
def _permute_vjp(xp, g, rec, a, b, out):
    return (xp.transpose(g, tuple(np.argsort(rec.params[0]))),)


@_st("expand", "ExpandBackward0", 1, (_NONE,))
def _expand_vjp(xp, g, rec, a, b, out):
    return (xp.unbroadcast(g, rec.in_shapes[0]),)


@_st("getitem", "IndexBackward0", 1, (_NONE,), params=("index",))
def _getitem_vjp(xp, g, rec, a, b, out):
    return (xp.index_grad(g, rec.params[0], rec.in_shapes[0]),)


@_st("index_grad", "IndexPutBackward0", 1, (_NONE,), params=("index", "shape"))
def _index_grad_vjp(xp, g, rec, a, b, out):
    # index_grad scatters into zeros; its own gradient gathers back: this closes the table
    # under differentiation, so getitem has gradients of every order.
    return (xp.getitem(g, rec.params[0]),)


@_st("index_put", "IndexPutBackward0", 2, (_NONE, _NONE), params=("index",))
def _index_put_vjp(xp, g, rec, a, b, out):
    index = rec.params[0]
    g_self = xp.index_zero(g, index) if rec.ins[0] is not None else None
    g_value = (xp.unbroadcast(xp.getitem(g, index), rec.in_shapes[1])
               if rec.ins[1] is not None else None)
    return g_self, g_value


@_st("cat", "CatBackward0", -1, (), params=("dim",))
def _cat_vjp(xp, g, rec, *unused):
    dim = rec.params[0]
    grads, start = [], 0
    for shape, slot in zip(rec.in_shapes, rec.ins):
        stop = start + shape[dim]
        if slot is not None:
            grads.append(xp.getitem(g, (slice(None),) * dim + (slice(start, stop),)))
        else:
            grads.append(None)
        start = stop
    return tuple(grads)


@_st("stack", "StackBackward0", -1, (), params=("dim",))
def _stack_vjp(xp, g, rec, *unused):
    dim = rec.params[0]
    return tuple(xp.getitem(g, (slice(None),) * dim + (i,)) if slot is not None else None
                 for i, slot in enumerate(rec.ins))


@_st("view_write", "CopySlices", 2, (_NONE, _NONE), params=("view_fn",))
def _view_write_vjp(xp, g, rec, a, b, out):
    # An in-place write through a view: the base keeps g outside the view, the value gets g
    # inside it. view_fn maps a base-shaped numpy array to the view, so numpy only.
    view_fn = rec.params[0]
    g_base = None
    if rec.ins[0] is not None:
        g_base = np.array(g, copy=True)
        view_fn(g_base)[...] = 0
    g_value = None
    if rec.ins[1] is not None:
        g_value = xp.unbroadcast(np.array(view_fn(g)), rec.in_shapes[1])
    return g_base, g_value


@_st("view_of", "AsStridedBackward0", 1, (_NONE,), params=("view_fn",))
def _view_of_vjp(xp, g, rec, a, b, out):
    base = np.zeros(rec.in_shapes[0], dtype=g.dtype)
    rec.params[0](base)[...] = g
    return (base,)


# ---- scans, reorderings, contractions, linear algebra (forwards in scan.py, shaping.py,
# linalg.py): PyTorch's formulas from derivatives.yaml, written against xp like those above.
@_st("cumprod", "CumprodBackward0", 1, (_A_OUT,), params=("dim",))
def _cumprod_vjp(xp, g, rec, a, b, out):
    dim = rec.params[0]
    if xp is not NP or np.all(a != 0):
        # d out_j / d a_i = out_j / a_i for j >= i: a reversed cumulative sum of g * out.
        go = g * out
        return ((xp.sum(go, axis=dim, keepdims=True) - xp.cumsum(go, axis=dim) + go) / a,)
    # With zeros, the products of the others, term by term: O(n^2) along dim, exact.
    am, gm = np.moveaxis(a, dim, -1), np.moveaxis(g, dim, -1)
    n = am.shape[-1]
    res = np.zeros_like(am)
    for i in range(n):
        others = am.copy()
        others[..., i] = 1
        res[..., i] = np.sum(gm[..., i:] * np.cumprod(others, -1)[..., i:], -1)
    return (np.moveaxis(res, -1, dim),)


@_st("logcumsumexp", "LogcumsumexpBackward0", 1, (_A_OUT,), params=("dim",))
def _logcumsumexp_vjp(xp, g, rec, a, b, out):
    # d out_j / d a_i = exp(a_i - out_j) for j >= i: exp(a - c) times the reversed cumulative
    # sum of g exp(c - out), c a constant (out's running maximum, the last entry) against
    # overflow; out's spread along dim must stay under ~700 (PyTorch works in log space).
    dim = rec.params[0]
    c = np.amax(np.asarray(getattr(out, "_data", out)), axis=dim, keepdims=True)
    c = np.where(np.isfinite(c), c, 0)
    w = g * xp.exp(c - out)
    rev = xp.sum(w, axis=dim, keepdims=True) - xp.cumsum(w, axis=dim) + w
    return (xp.exp(a - c) * rev,)


@_st("flip", "FlipBackward0", 1, (_NONE,), params=("dims",))
def _flip_vjp(xp, g, rec, a, b, out):
    return (xp.flip(g, rec.params[0]),)


@_st("roll", "RollBackward0", 1, (_NONE,), params=("shifts", "dims"))
def _roll_vjp(xp, g, rec, a, b, out):
    shifts, dims = rec.params
    return (xp.roll(g, tuple(-s for s in shifts), dims),)


@_st("trace", "TraceBackward0", 1, (_NONE,))
def _trace_vjp(xp, g, rec, a, b, out):
    shape = rec.in_shapes[0]
    k = np.arange(min(shape))
    return (xp.index_grad(xp.broadcast_to(g, k.shape), (k, k), shape),)


@_st("einsum", "EinsumBackward0", -1, (_B, _A), params=("spec",))
def _einsum_vjp(xp, g, rec, a, b, out):
    # One or two operands (longer einsums are recorded as a chain of pairs). The gradient of
    # an operand is the einsum of g with the other operands onto its own subscripts; letters
    # only it has are broadcast back, repeated letters (a diagonal) are put back through eyes.
    ins, outs = rec.params[0].split("->")
    subs = ins.split(",")
    values = (a, b)
    grads = []
    for k, sk in enumerate(subs):
        if rec.ins[k] is None:
            grads.append(None)
            continue
        others = [(s, values[j]) for j, s in enumerate(subs) if j != k]
        uniq = "".join(dict.fromkeys(sk))
        present = "".join(c for c in uniq if c in outs or any(c in s for s, _ in others))
        spec = ",".join([outs] + [s for s, _ in others]) + "->" + present
        v = xp.einsum(spec, g, *[x for _, x in others])
        shape = rec.in_shapes[k]
        size = {c: shape[sk.index(c)] for c in uniq}
        if present != uniq:
            v = xp.reshape(v, tuple(size[c] if c in present else 1 for c in uniq))
            v = xp.broadcast_to(v, tuple(size[c] for c in uniq))
        if len(uniq) < len(sk):
            spare = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         if c not in rec.params[0])
            target, eyes, seen = "", [], set()
            for c in sk:
                if c in seen:
                    fresh = next(spare)
                    eyes.append((c + fresh, np.eye(size[c], dtype=rec.dtype)))
                    target += fresh
                else:
                    seen.add(c)
                    target += c
            spec = ",".join([uniq] + [s for s, _ in eyes]) + "->" + target
            v = xp.einsum(spec, v, *[e for _, e in eyes])
        grads.append(v)
    return tuple(grads)


@_st("linalg_inv", "LinalgInvExBackward0", 1, (frozenset(("out",)),))
def _linalg_inv_vjp(xp, g, rec, a, b, out):
    inv_t = xp.swapaxes(out, -1, -2)
    return (-xp.matmul(inv_t, xp.matmul(g, inv_t)),)


@_st("linalg_det", "LinalgDetBackward0", 1, (_A_OUT,))
def _linalg_det_vjp(xp, g, rec, a, b, out):
    # g * det(A) * inv(A)^T, the cofactor matrix; with numpy it is computed through the SVD,
    # which also holds for a singular A (as PyTorch's backward does).
    if xp is NP:
        return (g[..., None, None] * cofactors(a),)
    scale = xp.expand_dims(xp.expand_dims(g * out, -1), -1)
    return (scale * xp.swapaxes(xp.linalg_inv(a), -1, -2),)


def cofactors(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix det(A) A^-T, also for a singular A (through the SVD)."""
    u, s, vh = np.linalg.svd(a)
    k = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(k)], -1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * (u * others[..., None, :]) @ vh


@_st("linalg_solve", "LinalgSolveExBackward0", 2, (_A_OUT, _A))
def _linalg_solve_vjp(xp, g, rec, a, b, out):
    # X = A^-1 B: gB = A^-T g, gA = -gB X^T. A 1-D B is a column (xp.linalg_solve always takes
    # a matrix right-hand side).
    sa, sb = rec.in_shapes
    vector = len(sb) == 1
    ge, xe = (xp.expand_dims(g, -1), xp.expand_dims(out, -1)) if vector else (g, out)
    gbm = xp.linalg_solve(xp.swapaxes(a, -1, -2), ge)
    ga = gb = None
    if rec.ins[0] is not None:
        ga = xp.unbroadcast(-xp.matmul(gbm, xp.swapaxes(xe, -1, -2)), sa)
    if rec.ins[1] is not None:
        gb = xp.unbroadcast(xp.reshape(gbm, gbm.shape[:-1]) if vector else gbm, sb)
    return ga, gb


@_st("function", "BackwardCFunction", -1, (), params=("cls", "ctx"))
def _function_vjp(xp, g, rec, *unused):
    return upper("function_vjp")(rec, g, xp)  # user Functions live in autograd


STRUCTURAL = tuple(name for name, op in OPS.items() if not op.elementwise)
ELEMENTWISE = tuple(name for name, op in OPS.items() if op.elementwise)


# ---- the numpy namespace the interpreter evaluates rules in -----------------------------
def _unbroadcast(g, shape):
    """Sum g down to ``shape``: the one place broadcasting is undone."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _index_grad(g, index, shape):
    z = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        z[index] = g
    else:
        np.add.at(z, index, g)
    return z


def _index_zero(g, index):
    g = np.array(g, copy=True)
    g[index] = 0
    return g


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)) for i in items)


class _Numpy:
    """The namespace rules see in the interpreter: numpy, plus the three helpers above."""

    sum = staticmethod(np.sum)
    mean = staticmethod(np.mean)
    reshape = staticmethod(np.reshape)
    broadcast_to = staticmethod(np.broadcast_to)
    transpose = staticmethod(np.transpose)
    swapaxes = staticmethod(np.swapaxes)
    expand_dims = staticmethod(np.expand_dims)
    matmul = staticmethod(threads.matmul)  # BLAS threads sized by m*n*k
    cumsum = staticmethod(np.cumsum)
    where = staticmethod(np.where)
    equal = staticmethod(np.equal)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sign = staticmethod(np.sign)
    abs = staticmethod(np.abs)
    flip = staticmethod(np.flip)
    roll = staticmethod(lambda x, shifts, dims: np.roll(x, shifts, dims) if dims is not None
                        else np.roll(x, shifts[0]))
    einsum = staticmethod(lambda spec, *xs: np.einsum(spec, *xs, optimize=len(xs) > 2))
    linalg_inv = staticmethod(np.linalg.inv)
    linalg_solve = staticmethod(lambda a, b: np.linalg.solve(a, b))
    unbroadcast = staticmethod(_unbroadcast)
    index_grad = staticmethod(_index_grad)
    index_zero = staticmethod(_index_zero)

    @staticmethod
    def getitem(x, index):
        return np.asarray(x[index])  # an integer index gives a numpy scalar, not an array


NP = _Numpy()
FORMULA_NUMPY = {"where": np.where, "sign": np.sign, "log": np.log, "exp": np.exp,
                 "sin": np.sin, "cos": np.cos, "sqrt": np.sqrt, "tanh": np.tanh,
                 "erf": specfun.erf, "trunc": np.trunc, "floor": np.floor}
