"""tapegrad in one page: a PyTorch-style script, the tape it records, and the JIT's kernels.

    python examples/quickstart.py
"""
import tapegrad as torch
import tapegrad.jit

# 1. The autograd you know: tensors that require grad, backward(), .grad
x = torch.tensor([2.0, 3.0], requires_grad=True)
y = x * x + 3 * x + 1
y.sum().backward()
print("d/dx sum(x^2 + 3x + 1) at", x.tolist(), "=", x.grad)
del y  # its records are reclaimed: the tape holds only what live tensors can reach

# 2. What was recorded: a Wengert tape, printed as a program
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
loss = ((x * w).tanh() * 2 + 1).sum()
print("\nthe tape behind `loss`:")
print(torch.current_tape())
print("loss.grad_fn:", loss.grad_fn)

# 3. The same backward, interpreted and JIT-compiled: same gradients
with torch.backend("interp"):
    loss.backward(retain_graph=True)
interp_grad = w.grad.clone()
w.grad = None
with torch.backend("jit"):
    loss.backward()
print("\ninterpreted dloss/dw:", interp_grad)
print("JIT         dloss/dw:", w.grad)

# 4. A small training loop with an optimizer; the JIT compiles the loop's graph once
torch.manual_seed(0)
true_w = torch.tensor([3.0, -2.0])
inputs = torch.randn(64, 2)
targets = inputs @ true_w + 0.5
weights = torch.zeros(2, requires_grad=True)
bias = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([weights, bias], lr=0.1)
tapegrad.jit.reset_stats()
for step in range(100):
    pred = inputs @ weights + bias
    loss = ((pred - targets) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")
print("learned weights:", weights.detach(), "bias:", bias.detach())
s = tapegrad.jit.stats()
print(f"\nJIT: {s['jit_backwards']} compiled backwards, {s['interpreted_backwards']} interpreted "
      f"first; {s['compiles']} kernel compiled ({s['compile_seconds']:.2f} s), "
      f"{s['disk_loads']} loaded from the disk cache")
