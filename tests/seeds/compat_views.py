# In-place writes through views, versions, detach; expected from PyTorch 2.13.
import torch

a = torch.ones(4, requires_grad=True)
b = a * 1
c = b[1:3]
c.mul_(2)
print(b, c)
b.sum().backward()
print(a.grad)

x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = x.clone()
y[:, 1] += 10
y[0] = y[0] * 3
(y * y).sum().backward()
print(y)
print(x.grad)

p = torch.zeros(3)
q = torch.tensor([1.0, 2.0], requires_grad=True)
p[:2] = q * 2
print(p, p.requires_grad, p.is_leaf)
p.sum().backward()
print(q.grad)

m = torch.arange(6.0).reshape(2, 3)
v = m.view(3, 2)
v[0, 0] = 100
print(m, m._version, v._version)
t = m.t()
t[1] = -1
print(m)
d = m.detach()
d.zero_()
print(m.sum())
w = torch.ones(3, requires_grad=True)
with torch.no_grad():
    w[0] = 5
print(w, w.is_leaf)
k = torch.ones(2, 2, requires_grad=True)
kk = k.exp()
kk.add_(1)
try:
    kk.sum().backward()
except RuntimeError as e:
    print(" ".join(str(e).split()[:24]))
print(k.grad)
