"""Issue 13, point 4: linear algebra (torch.linalg and the torch. aliases), values, gradients
and grad_fn names as PyTorch prints them. Sign-ambiguous factors (Q, U, V, eigenvectors) are
printed only through quantities that do not depend on their signs."""
import torch

torch.set_printoptions(precision=5)
A = torch.tensor([[2.0, -1.0, 0.5], [1.0, 3.0, -0.5], [0.25, 1.5, 1.0]], dtype=torch.float64,
                 requires_grad=True)
B = torch.tensor([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.5]], dtype=torch.float64,
                 requires_grad=True)
S = (A @ A.mT + torch.eye(3, dtype=torch.float64)).detach().requires_grad_()
batch = torch.stack([A.detach(), A.detach().mT * 0.5 + torch.eye(3, dtype=torch.float64)])
batch.requires_grad_()


def name(t):
    return type(t.grad_fn).__name__


def grads(*ts):
    out = [t.grad.clone() for t in ts]
    for t in ts:
        t.grad = None
    return out


# kron, cross, matrix_power
k = torch.kron(A, B)
print(k.shape, name(k), k[2:5, 1:4])
v = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
c = torch.linalg.cross(A, v.expand(2, 3).sum(0, keepdim=True))
print(c, name(c), torch.cross(A, A.flip(0), dim=0), A.cross(v.expand(3, 3), dim=1))
(k.sin().sum() + c.pow(2).sum()).backward()
print(grads(A, v))
for n in (-2, -1, 0, 1, 2, 3, 5):
    p = torch.linalg.matrix_power(A, n)
    p.sin().sum().backward()
    print(n, name(p), p, grads(A)[0])
print(torch.matrix_power(batch, 3).sum(), batch.matrix_power(-1).sum())

# det, slogdet, logdet, inv
sd = torch.linalg.slogdet(A)
print(sd, torch.slogdet(batch), A.slogdet())
print(torch.logdet(S), S.logdet(), torch.logdet(batch), name(torch.logdet(S)))
(sd.logabsdet + torch.logdet(S)).backward()
print(grads(A, S))
g, = torch.autograd.grad(torch.linalg.slogdet(A).logabsdet, A, create_graph=True)
g.pow(2).sum().backward()
print(g, grads(A))

# cholesky
L = torch.linalg.cholesky(S)
U = torch.linalg.cholesky(S, upper=True)
print(L, U, name(L), name(torch.cholesky(S)))
(L.sin().sum() + U.pow(3).sum()).backward()
print(grads(S))
Lb = torch.linalg.cholesky(batch @ batch.mT)
Lb.sum().backward()
print(Lb, grads(batch))
print(torch.linalg.cholesky_ex(torch.tensor([[1.0, 2.0], [2.0, 1.0]])).info)

# qr
Q, R = torch.linalg.qr(B)
print(Q.shape, R.shape, name(Q), name(R), (Q @ R), (Q @ Q.mT).diagonal(), R.abs())
((Q @ R).pow(2).sum() + R.abs().sum() + (Q * Q).sum(0).sum() + (Q @ Q.mT).sin().sum()).backward()
print(grads(B))
Qc, Rc = torch.linalg.qr(B, mode="complete")
print(Qc.shape, Rc.shape, torch.linalg.qr(B, mode="r").Q.shape, torch.linalg.qr(B.mT).R.abs())
Qw, Rw = torch.linalg.qr(B.mT)
((Qw @ Rw).sin().sum() + Rw.abs().sum()).backward()
print(grads(B))

# eigh, eigvalsh
w, V = torch.linalg.eigh(S)
print(w, name(w), name(V), (V * V), (V @ torch.diag_embed(w) @ V.mT - S).abs().max() < 1e-12)
(w.pow(2).sum() + (V * V)[0].sum() + (V[:, 0:1] @ V[:, 0:1].mT).sin().sum()).backward()
print(grads(S))
wu = torch.linalg.eigvalsh(A, UPLO="U")
print(wu, name(wu), torch.linalg.eigvalsh(batch))
(wu.exp().sum() + torch.linalg.eigvalsh(batch).pow(2).sum()).backward()
print(grads(A, batch))

# svd, svdvals
U, s, Vh = torch.linalg.svd(B, full_matrices=False)
print(U.shape, s.detach(), Vh.shape, name(U), name(s), name(Vh), U @ torch.diag(s) @ Vh)
(s.pow(3).sum() + (U * U).sum(1).sin().sum() + (Vh.mT @ Vh).exp().sum()).backward()
print(grads(B))
Uf, sf, Vhf = torch.linalg.svd(B)
print(Uf.shape, sf.shape, Vhf.shape)
sv = torch.linalg.svdvals(batch)
print(sv, name(sv))
sv.sum().backward()
print(grads(batch))
u, s2, vv = torch.svd(B)
print(u.shape, s2.detach(), vv.shape, name(vv), B.svd().S.detach(),
      torch.svd(B, compute_uv=False).V)
(u @ torch.diag(s2) @ vv.mT).pow(2).sum().backward()
print(grads(B))

# pinv, lstsq
P = torch.linalg.pinv(B)
print(P, name(P), torch.linalg.pinv(S, hermitian=True), torch.pinverse(B.mT))
print(torch.linalg.pinv(torch.tensor([[1.0, 0.0], [0.0, 1e-9]]), rtol=1e-6),
      torch.linalg.pinv(torch.tensor([[1.0, 0.0], [0.0, 0.1]]), atol=0.5))
(P.sin().sum() + torch.linalg.pinv(S, hermitian=True).sum()).backward()
print(grads(B, S))
rhs = torch.tensor([[1.0], [2.0], [0.5], [-1.0]], dtype=torch.float64, requires_grad=True)
r = torch.linalg.lstsq(B, rhs)
print(r)
r.solution.pow(2).sum().backward()
print(grads(B, rhs))
rb = torch.linalg.lstsq(batch, torch.ones(2, 3, 2, dtype=torch.float64))
print(rb.solution, rb.rank, torch.linalg.lstsq(B, rhs, driver="gelsd"))

# matrix_exp
E = torch.linalg.matrix_exp(A)
print(E, name(E), torch.matrix_exp(3 * batch), A.matrix_exp().sum())
E.sin().sum().backward()
print(grads(A))

# matrix norms and linalg.norm
for o in ("fro", "nuc", float("inf"), -float("inf"), 1, -1, 2, -2):
    m = torch.linalg.matrix_norm(B, o)
    m.backward()
    print(o, m, name(m), grads(B)[0], torch.linalg.matrix_norm(batch, o))
print(torch.linalg.matrix_norm(batch, 1, dim=(0, 2)), torch.linalg.matrix_norm(batch, 2, dim=(2, 0)))
print(torch.linalg.matrix_norm(batch, "nuc", keepdim=True).shape,
      torch.linalg.matrix_norm(batch, -1, keepdim=True).shape)
print(torch.linalg.norm(B), torch.linalg.norm(B, 2), torch.linalg.norm(B, "nuc"),
      torch.linalg.norm(B, -2), torch.linalg.norm(v, 1), torch.linalg.norm(batch, dim=(1, 2)),
      torch.linalg.norm(batch, 2, dim=(1, 2)), torch.linalg.norm(batch, 3, dim=0))

# solve_triangular, vecdot, multi_dot, matrix_rank, cond; matmul's node names
T = torch.linalg.solve_triangular(A, B[:3], upper=True)
Tr = torch.linalg.solve_triangular(A, B.mT[:, :3], upper=False, left=False, unitriangular=True)
print(T, name(T), Tr)
(T.sin().sum() + Tr.pow(2).sum()).backward()
print(grads(A, B))
print(torch.linalg.vecdot(A, B[:3, :1].mT), torch.linalg.multi_dot([v, A, B[:3]]),
      torch.linalg.matrix_rank(batch), torch.linalg.matrix_rank(B @ B.mT),
      torch.linalg.matrix_rank(S, hermitian=True, atol=2.0))
cn = torch.linalg.cond(A)
cn.backward()
print(cn, torch.linalg.cond(batch, -2), torch.linalg.cond(A, "fro").item(), grads(A))
for sa, sb in (((3,), (3, 2)), ((4, 2, 3), (4, 3, 2)), ((2, 3), (4, 3, 2)), ((1, 2, 3), (4, 3, 2)),
               ((4, 2, 3), (3,))):
    print(sa, sb, name(torch.ones(sa, requires_grad=True) @ torch.ones(sb)))

# addmm and kin, inner, vdot, cholesky_solve, cholesky_inverse
am = torch.addmm(v, B[:2], A[:2], beta=0.5, alpha=2)
print(am, name(am), torch.addmv(v, A, v, alpha=3), torch.addr(A, v, v, beta=2))
print(torch.baddbmm(A, batch, batch).sum(), torch.addbmm(A, batch, batch),
      torch.inner(A, B[:3, :1].mT.expand(2, 3)), torch.vdot(v, v), A.addmm(A, A).sum())
Lt = torch.tril(A) + 2 * torch.eye(3, dtype=torch.float64)
cs = torch.cholesky_solve(B[:3], Lt)
ci = torch.cholesky_inverse(Lt, upper=False)
print(cs, name(cs), ci, name(ci), torch.cholesky_solve(B[:3], Lt.mT, upper=True))
(am.sin().sum() + cs.pow(2).sum() + ci.sin().sum()).backward()
print(grads(A, B, v))

# vander, tensorinv, tensorsolve
vd = torch.linalg.vander(v, N=4)
ti = torch.linalg.tensorinv(A.reshape(3, 3, 1), ind=1)
ts = torch.linalg.tensorsolve(torch.kron(batch[1], B[1:3, :2] + 1).reshape(2, 3, 6),
                              B.reshape(8)[:6].reshape(2, 3))
print(vd, name(vd), ti.shape, ts)
(vd.sin().sum() + ti.sum() + ts.pow(2).sum()).backward()
print(grads(v, A, batch, B))

# LU
P_, L_, U_ = torch.linalg.lu(A)
F_ = torch.linalg.lu_factor(batch)
X_ = torch.linalg.lu_solve(F_.LU, F_.pivots, B[:3].expand(2, 3, 2))
print(P_, L_, U_, F_, X_, name(X_), torch.linalg.lu(B).U, torch.linalg.lu_factor_ex(B.mT))
(L_.sin().sum() + U_.pow(2).sum() + X_.sin().sum()).backward()
print(grads(A, batch, B))
Pu, Lu, Uu = torch.lu_unpack(F_.LU, F_.pivots)
print(Pu, Lu.sum(), Uu.sum(), name(Uu))

# solve: batches of vectors, left=False; inv_ex, solve_ex
xs = torch.linalg.solve(batch, B[:2, :1].expand(2, 3) + 1)
xr = torch.linalg.solve(A, B.mT[:, :3] * 1, left=False)
print(xs, name(xs), xr, name(xr))
(xs.sum() + xr.sin().sum()).backward()
print(grads(A, batch, B))
print(torch.linalg.inv_ex(batch).info, torch.linalg.inv_ex(torch.tensor([[1.0, 2.0], [2.0, 4.0]])),
      torch.linalg.solve_ex(torch.tensor([[1.0, 2.0], [2.0, 4.0]]), torch.ones(2, 1)))

# errors
for f in (lambda: torch.linalg.cholesky(B), lambda: torch.linalg.cholesky(torch.ones(2, 2)),
          lambda: torch.linalg.cholesky(torch.stack([torch.eye(2), -torch.eye(2)])),
          lambda: torch.linalg.matrix_power(B, 2), lambda: torch.linalg.cross(B, B),
          lambda: torch.linalg.eigh(B), lambda: torch.linalg.qr(B, mode="full"),
          lambda: torch.linalg.matrix_norm(v), lambda: torch.linalg.matrix_norm(B, 3),
          lambda: torch.linalg.norm(batch, 2), lambda: torch.linalg.slogdet(B),
          lambda: torch.linalg.matrix_exp(B), lambda: torch.linalg.svd(torch.ones(3, dtype=int)),
          lambda: torch.linalg.qr(B, mode="r").R.sum().backward(),
          lambda: torch.linalg.qr(B, mode="complete").Q.sum().backward(),
          lambda: torch.linalg.solve_triangular(A, B, upper=True),
          lambda: torch.linalg.multi_dot([B, B]), lambda: torch.linalg.cond(A, 3),
          lambda: torch.addmm(v[:2], B[:2], A[:2]), lambda: torch.addmm(A, B, A),
          lambda: torch.linalg.lu_factor(torch.zeros(2, 2)),
          lambda: torch.linalg.lu(A, pivot=False),
          lambda: torch.linalg.inv(torch.stack([torch.eye(2), torch.zeros(2, 2)])),
          lambda: torch.linalg.solve(torch.zeros(2, 2), torch.ones(2)),
          lambda: torch.linalg.solve(A, v[:2])):
    try:
        f()
    except RuntimeError as e:
        print(str(e).splitlines()[0])
