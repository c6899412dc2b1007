# Error types and messages, in-place writes and views; expected from PyTorch 2.13.
import torch


def attempt(label, fn):
    try:
        fn()
        print(label, "ok")
    except Exception as e:
        print(label, type(e).__name__, " ".join(str(e).split()[:18]))


x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
attempt("nonscalar", lambda: (x * 2).backward())
attempt("nograd", lambda: torch.ones(2).sum().backward())
attempt("leaf inplace", lambda: x.add_(1))
attempt("int grad", lambda: torch.tensor([1, 2], requires_grad=True))
attempt("broadcast", lambda: torch.ones(3) + torch.ones(4))
attempt("broadcast2", lambda: torch.ones(2, 3) * torch.ones(2))
attempt("mm", lambda: torch.ones(2, 3) @ torch.ones(4, 5))
attempt("view", lambda: torch.ones(2, 3).view(4, 2))
attempt("view2", lambda: torch.ones(2, 3).t().view(6))
attempt("index", lambda: torch.ones(3)[5])
attempt("item", lambda: torch.ones(3).item())
attempt("cat", lambda: torch.cat([torch.ones(2, 3), torch.ones(3, 2)]))
attempt("stack", lambda: torch.stack([torch.ones(2), torch.ones(3)]))
attempt("expand", lambda: torch.ones(3).expand(4))
attempt("dim", lambda: torch.ones(3).sum(dim=2))
attempt("mean int", lambda: torch.tensor([1, 2]).mean())
attempt("cast inplace", lambda: torch.tensor([1, 2]).add_(1.5))
attempt("grad shape", lambda: (x * 2).backward(torch.ones(2)))
y = x * 2
z = y * y
y.add_(1)
attempt("version", lambda: z.sum().backward())
w = (x * x).sum()
w.backward()
attempt("twice", lambda: w.backward())
attempt("nonleaf flag", lambda: setattr(x * 2, "requires_grad", False))
attempt("numpy grad", lambda: x.numpy())
attempt("bool ambiguous", lambda: bool(torch.ones(2)))
attempt("neg pow", lambda: torch.tensor([2]) ** -1)
attempt("ce target", lambda: torch.nn.functional.cross_entropy(torch.ones(2, 3), torch.tensor([0, 3])))
attempt("ce batch", lambda: torch.nn.functional.cross_entropy(torch.ones(2, 3), torch.tensor([0])))
attempt("opt nonleaf", lambda: torch.optim.SGD([x * 2], lr=0.1))
attempt("unused", lambda: torch.autograd.grad((x * 2).sum(), [x, torch.ones(1, requires_grad=True)]))
v = torch.ones(4)
v[1:3] = torch.tensor([5.0, 6.0])
print(v, v._version)
base = torch.zeros(3)
base[torch.tensor([0, 2])] = 1.0
print(base)
q = torch.ones(2, 2, requires_grad=True).clone()
q[0, 0] = 7.0
print(q)
print(q.grad_fn.name())
