"""The kernels' vectorisable exp, tanh, sin and cos against numpy: within 2 ulp over wide
ranges, and numpy's answers at the special values."""
import numpy as np
import pytest
from numba import njit

from tapegrad.jit import vmath

FUNCS = ("exp", "tanh", "sin", "cos")


def _looped(name):
    fn = getattr(vmath, name)

    @njit(cache=False)
    def run(x, out):
        for i in range(x.size):       # the loop form the kernels use
            out[i] = fn(x[i])
    return run


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("scale", [1e-6, 1.0, 30.0, 700.0, 1e6])
def test_within_two_ulp_of_numpy(name, scale):
    x = np.random.default_rng(5).standard_normal(20000) * scale
    if name in ("sin", "cos"):
        x = x[np.abs(x) <= vmath.SINCOS_MAX]
    out = np.empty_like(x)
    _looped(name)(x, out)
    with np.errstate(over="ignore"):
        ref = getattr(np, name)(x)
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(out[~finite], ref[~finite])
    tiny = np.finfo(np.float64).tiny
    ulp = np.abs(out[finite] - ref[finite]) / np.spacing(np.maximum(np.abs(ref[finite]), tiny))
    assert ulp.max() <= 2.0, (name, scale, ulp.max())


SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 5e-324, 1e-8, -0.6249,
                    0.625, -22.0, -23.0, np.pi, np.pi / 2, -np.pi / 4, 709.78, 709.79, -745.1,
                    -745.2, -708.5, 1000.0, -1000.0, 1e8, -1e9])


@pytest.mark.parametrize("name", FUNCS)
def test_special_values_as_numpy(name):
    x = SPECIAL.copy()
    if name in ("sin", "cos"):   # beyond the reduction's range the kernels use libm
        x = x[~(np.abs(x) > vmath.SINCOS_MAX)]
    out = np.empty_like(x)
    _looped(name)(x, out)
    with np.errstate(all="ignore"):
        ref = getattr(np, name)(x)
    close = np.abs(out - ref) <= 2 * np.spacing(np.abs(ref))
    same = (out == ref) & (np.signbit(out) == np.signbit(ref))
    both_nan = np.isnan(out) & np.isnan(ref)
    ok = same | both_nan | (close & (ref != 0))
    assert ok.all(), (x[~ok], out[~ok], ref[~ok])


@pytest.mark.parametrize("name", FUNCS)
def test_float32_argument_rounds_as_numpy(name):
    x = (np.random.default_rng(6).standard_normal(5000) * 5).astype(np.float32)
    out = np.empty_like(x)
    _looped(name)(x, out)
    ref = getattr(np, name)(x)
    np.testing.assert_allclose(out, ref, rtol=2e-7, atol=1e-38)


SINCOS_ARGS = np.array([1e10, -3e12, np.inf, 0.5, -1.25, 2e9, np.nan, 7.0, 1e300, -0.0] * 3)


def _sincos_program(torch, x):
    y = torch.sin(x * 1.0) * 2.0 + torch.cos(x) * torch.exp(x * -0.0)
    return (y * y).sum()


@pytest.mark.parametrize("backend", ["jit", "compile"])
def test_arguments_beyond_the_reduction_take_libm(backend):
    """sin and cos of 1e10, 3e12, 1e300 and inf, forward and gradients, as eager numpy gives
    them: the kernels' libm twins run."""
    import tapegrad

    def run(engine):
        x = tapegrad.tensor(SINCOS_ARGS, requires_grad=True)
        if engine == "compile":
            fn = tapegrad.compile(_sincos_program)
            fn(tapegrad, x)                  # the trace call: eager
            x.grad = None
            loss = fn(tapegrad, x)
        else:
            loss = _sincos_program(tapegrad, x)
        with tapegrad.backend("jit" if engine == "jit" else "interp"):
            loss.backward()
        return loss.item(), x.grad.numpy()

    with np.errstate(invalid="ignore"):
        want = run("interp")
        got = run(backend)
    np.testing.assert_array_equal(np.isnan(got[1]), np.isnan(want[1]))
    np.testing.assert_allclose(got[1], want[1], rtol=1e-13, atol=0)
    assert (np.isnan(got[0]) and np.isnan(want[0])) or got[0] == pytest.approx(want[0], rel=1e-13)
