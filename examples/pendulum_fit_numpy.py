"""A numpy-style scientific fit, HIPS-autograd style: recover a damped pendulum's physics from
a noisy recording of its angle.

    theta'' = -(g / L) sin(theta) - c theta'

The simulator is plain numpy (an RK4 integrator written with np.stack, np.sin, np.dot, ...)
and never mentions tapegrad. ``tapegrad.grad`` differentiates the misfit through all 80 RK4
steps: the parameters go in as a numpy array, the gradient comes out as one, and plain gradient
descent (with momentum, written in numpy) does the rest.
"""
import time

import numpy as np

import tapegrad

# Every array here has two elements: nothing for a fused kernel to win. The default backend
# ("auto") sees that from its cost model and never compiles this graph, so it runs as fast as
# the interpreter (it once compiled it, and took 9.9 s against 5.9 s interpreted).

DT, STEPS = 0.075, 80
TIMES = DT * np.arange(1, STEPS + 1)
RK4_WEIGHTS = np.array([1.0, 2.0, 2.0, 1.0]) / 6


def rhs(state, k_over_l, damping):
    """d/dt (theta, omega) for the damped pendulum."""
    theta, omega = state[0], state[1]
    return np.stack([omega, -k_over_l * np.sin(theta) - damping * omega])


def simulate(params, state0):
    """The angle at every step of an RK4 integration, as one array."""
    k_over_l, damping = params[0], params[1]
    state, angles = state0, []
    for _ in range(STEPS):
        k1 = rhs(state, k_over_l, damping)
        k2 = rhs(state + 0.5 * DT * k1, k_over_l, damping)
        k3 = rhs(state + 0.5 * DT * k2, k_over_l, damping)
        k4 = rhs(state + DT * k3, k_over_l, damping)
        state = state + DT * np.dot(RK4_WEIGHTS, np.stack([k1, k2, k3, k4]))
        angles.append(state[0])
    return np.stack(angles)


def misfit(params, state0, observed):
    """Mean squared error of the simulated angle, plus a weak prior keeping damping >= 0."""
    residual = simulate(params, state0) - observed
    return np.mean(residual ** 2) + 1e-3 * np.sum(np.clip(-params, 0.0, None) ** 2)


rng = np.random.default_rng(0)
true_params = np.array([9.81 / 1.0, 0.35])            # g / L (1 m pendulum), damping
state0 = np.array([1.2, 0.0])                          # released from 1.2 rad, at rest
observed = simulate(true_params, state0) + 0.02 * rng.standard_normal(STEPS)

params = np.array([7.0, 0.8])                          # a poor first guess
velocity = np.zeros(2)
lr, momentum = 0.4, 0.7
loss_and_grad = tapegrad.value_and_grad(misfit)
start = time.perf_counter()
first = None
for step in range(50):
    loss, grad = loss_and_grad(params, state0, observed)
    first = loss if first is None else first
    assert isinstance(grad, np.ndarray)                # numpy in, numpy out
    velocity = momentum * velocity - lr * grad / max(1.0, np.linalg.norm(grad))
    params = params + velocity
    if step % 10 == 0:
        print(f"step {step:3d}  misfit {loss:.6f}  g/L {params[0]:.4f}  damping {params[1]:.4f}")
elapsed = time.perf_counter() - start
final = misfit(params, state0, observed)               # plain numpy: no tapegrad involved
print(f"fitted g/L = {params[0]:.4f} (true {true_params[0]}), damping = {params[1]:.4f} "
      f"(true {true_params[1]}); misfit {first:.5f} -> {final:.6f} "
      f"(noise floor {0.02 ** 2:.6f}) in {elapsed:.1f} s")
assert final < 2 * 0.02 ** 2, final
assert abs(params[0] - true_params[0]) < 0.1 and abs(params[1] - true_params[1]) < 0.05, params
