"""Rolled runs: a run whose middle repeats (a Python loop's body) as one kernel with a loop.

A run of ``head`` nodes then ``count`` iterations of a body of ``period`` nodes is compiled as
the head's code, then ``for r in range(count)`` around the body's code once: compile time is
the body's, not the loop's, and a call runs every iteration (cut into pieces, the same loop
cost a kernel call and its Python per piece). Each iteration is one pass over the elements,
which vectorises as a fused run's loop does. What an iteration reads from the one before is
``carried`` (an array per value, from one pass to the next); what it reads from before the loop
is ``invariant`` (the same every iteration); its Python numbers come from ``p`` at the
iteration's offset.

The backward kernel runs the forward again, keeping each iteration's values (a row of
``_buf`` per iteration: iterations x values x elements), then the iterations' derivative
formulas in reverse, each from its row. Only on small arrays, and as many iterations in one
kernel as keep ``_buf`` within ``BUF_MAX`` values (``plan``).

Only the last iteration's values may be read after the loop (anything may read the head's);
an earlier iteration's only reader is the next one. Where a backward's adjoints reach some
iterations of a body node and not others (the last iteration's value of a state the loss does
not read, say), the kernel holds a flag per iteration and position (``_LIVE``) and runs that
node's derivatives only where they are reached, as the eager backward does.
"""
from __future__ import annotations

import re

from ..jit.codegen import render_formula
from .fuse import ARR, EXPR, FusedRun, _module, render
from .trace import IN, NODE, PY

# Runs over at most this many elements are rolled (as sums are absorbed: ``plan.ABSORB_MAX``).
ROLL_MAX = 1 << 12
# A rolled backward keeps at most this many values (32 MB of float64) of its iterations.
BUF_MAX = 1 << 22
CARRIED, INVARIANT = "carried", "invariant"
_SCALAR = re.compile(r"^p_(\d+)$")


def _same(a, b) -> bool:
    """Whether two operand refs are the same value (a constant by identity)."""
    if a[0] != b[0]:
        return False
    if a[0] in (IN, NODE):
        return a[1] == b[1]
    return a[1] is b[1]


def find(nodes: list, run: list, period: int, readers: dict, sums: list):
    """``(head, count)`` of the longest loop of ``period``-node iterations in ``run`` that can be
    rolled, and its operand slots, or None. The iterations start after ``head`` nodes (at most
    a period: a first iteration that reads the loop's inputs directly, or a Python number where
    later ones read the state, is the head)."""
    best = None
    for head in range(min(period + 1, len(run))):
        iters = [run[k:k + period] for k in range(head, len(run) - period + 1, period)]
        count, slots = _longest(nodes, iters, readers, sums)
        if count >= 2 and (best is None or count > best[1]):
            best = (head, count, slots)
    return best


def _longest(nodes: list, iters: list, readers: dict, sums: list) -> tuple:
    """How many of ``iters``, from the first, roll into one loop, and the slots: per body
    position, per operand letter, ``(CARRIED, d)`` (the previous iteration's node ``d``) or
    ``(INVARIANT,)``; inside and Python-number operands have no slot."""
    if len(iters) < 2:
        return 0, None
    first = iters[0]
    shape = [_shape(nodes, first, i) for i in range(len(first))]
    slots: list = [dict() for _ in first]
    summed = {nodes[j].operands[0][1] for j in sums}
    for r in range(1, len(iters)):
        it, prev = iters[r], iters[r - 1]
        if [_shape(nodes, it, i) for i in range(len(it))] != shape:
            return r, slots
        trial = [dict(s) for s in slots]
        ok = True
        for i, (j0, j) in enumerate(zip(first, it)):
            for letter, ref0, ref in zip("abc", nodes[j0].operands, nodes[j].operands):
                if ref0[0] == NODE and ref0[1] in first or ref0[0] == PY and \
                        type(ref0[1]) is not bool:
                    continue   # inside the iteration, or a Python number: no slot
                d = prev.index(ref[1]) if ref[0] == NODE and ref[1] in prev else None
                kind = (CARRIED, d) if d is not None else \
                    (INVARIANT,) if _same(ref, ref0) else None
                if kind is None or trial[i].setdefault(letter, kind) != kind:
                    ok = False
        # The previous iteration, now a middle one: its only reader is this one, through
        # carried slots, and it has no absorbed sum.
        carried = {s[1] for sl in trial for s in sl.values() if s[0] == CARRIED}
        for d, j in enumerate(prev):
            outside = [x for x in readers.get(j, ()) if x not in prev]
            if outside and (d not in carried or any(x not in it for x in outside)):
                ok = False
            if j in summed:
                ok = False
        if not ok:
            return r, slots
        slots = trial
    return len(iters), slots


def _shape(nodes: list, piece: list, i: int) -> tuple:
    """Node ``i`` of an iteration: its op, how many params, and per operand the distance to
    a node of the iteration, a Python number, or "outside" (whether an outside operand is
    carried or invariant is the slots' business: the first iteration reads as outside what
    later ones carry)."""
    node = nodes[piece[i]]
    links = tuple(i - piece.index(x) if kind == NODE and x in piece else
                  (kind, type(x) is bool) if kind == PY else "outside"
                  for kind, x in node.operands)
    return node.op.name, len(node.params), links


class RolledRun(FusedRun):
    """A run as ``head`` nodes and ``count`` iterations of ``period`` nodes, in one kernel each
    way with a loop over the iterations (module docstring). The run's analysis (inputs,
    escaping values, sums, liveness) is ``FusedRun``'s over every node; only the kernels'
    code differs."""

    def __init__(self, program, nodes: list, readers: dict, sums: list, head: int,
                 period: int, count: int, slots: list) -> None:
        super().__init__(program, nodes, readers, sums)
        self.head, self.period, self.count, self.slots = head, period, count, slots
        self.base = self.first_scalar[head]
        end = head + period
        self.stride = (self.first_scalar[end] if end < len(nodes) else len(self.scalars)) \
            - self.base
        # The carried registers: one per (body position, operand) slot that carries.
        self.carried = [(i, letter, s[1]) for i, sl in enumerate(slots)
                        for letter, s in sorted(sl.items()) if s[0] == CARRIED]

    # ---- naming ------------------------------------------------------------------------
    def _at(self, i: int) -> int:
        """The register of node position ``i``: the head's own, an iteration's the body's."""
        return i if i < self.head else self.head + (i - self.head) % self.period

    def _body_names(self, i: int) -> dict:
        """Body position ``i``'s operand names in the loop: carried slots as their registers,
        Python numbers as the iteration's (``p_q<s>``, read from ``p`` per iteration)."""
        names = dict(self.body[self.head + i][1])
        for letter, name in names.items():
            slot = self.slots[i].get(letter)
            if slot is not None and slot[0] == CARRIED:
                names[letter] = f"c{self._carry_index(i, letter)}"
                continue
            m = _SCALAR.match(name)
            if m:
                names[letter] = f"p_q{int(m.group(1)) - self.base}"
        return names

    def _carry_index(self, i: int, letter: str) -> int:
        return next(k for k, (b, lt, _) in enumerate(self.carried) if (b, lt) == (i, letter))

    def _head_setup(self) -> list:
        """Only the head's numbers are read before the loop; the body's, per iteration."""
        return [f"p_{k} = p[{k}]" for k in range(self.base)]

    def _body_lines(self) -> list:
        h, lines = self.head, []
        for i in range(self.period):
            op = self.program.nodes[self.nodes[h + i]].op.name
            lines.append(f"v{h + i} = {render(EXPR[op], self._body_names(i), self.cast)}")
        return lines

    def _shared(self) -> list:
        """The head positions the body reads (the same value every iteration)."""
        h = self.head
        return sorted({int(name[1:]) for i in range(self.period)
                       for name in self._body_names(i).values()
                       if name.startswith("v") and name[1:].isdigit() and int(name[1:]) < h})

    def _iteration(self, r: str) -> list:
        """The lines that start iteration ``r``: its offset in ``p`` and its numbers."""
        return [f"q = {self.base} + ({r}) * {self.stride}"] + [
            f"p_q{k} = p[q + {k}]" for k in range(self.stride)]

    def _element(self) -> list:
        """The lines that start an element of an iteration: the inputs it reads, the head's
        values it reads, its carried values."""
        return self._loads() + [f"v{k} = _h{k}[i]" for k in self._shared()] + [
            f"c{k} = _c{k}[i]" for k in range(len(self.carried))]

    def _head_loop(self, extra: list) -> list:
        """The head over every element, the carried values' start and the head's values the
        body reads stored, then ``extra``."""
        h = self.head
        lines = ["for i in range(n):"]
        inner = self._loads() + [line for line, _ in self.body[:h]]
        inner += [f"_c{k}[i] = {self.body[h + i][1][letter]}"
                  for k, (i, letter, _) in enumerate(self.carried)]
        inner += [f"_h{k}[i] = v{k}" for k in self._shared()] + extra
        return lines + ["    " + line for line in inner]

    def _arrays(self) -> list:
        return [f"_c{k} = np.empty(n, _f)" for k in range(len(self.carried))] + [
            f"_h{k} = np.empty(n, _f)" for k in self._shared()]

    def _forward_source(self) -> str:
        inside, h = self.inside, self.head
        args = ["n", "p"] + [f"x{k}" for k in range(len(self.inputs))] + \
               [f"o{inside[j]}" for j in self.written]
        heads = [j for j in self.written if inside[j] < h]
        lasts = [j for j in self.written if inside[j] >= h]
        head_sums = [(m, j) for m, j in enumerate(self.sums)
                     if inside[self.program.nodes[j].operands[0][1]] < h]
        last_sums = [(m, j) for m, j in enumerate(self.sums) if (m, j) not in head_sums]

        def summed(pairs):
            return [f"_acc{m} += v{self._at(inside[self.program.nodes[j].operands[0][1]])}"
                    for m, j in pairs]

        lines = self._arrays() + self._head_loop(
            [f"o{inside[j]}[i] = v{inside[j]}" for j in heads] + summed(head_sums))
        body = self._element() + self._body_lines() + [
            f"_c{k}[i] = v{h + d}" for k, (_, _, d) in enumerate(self.carried)]
        # Every iteration but the last; then the last, which writes what is read after it.
        lines += [f"for r in range({self.count - 1}):"] + [
            "    " + x for x in self._iteration("r")] + ["    for i in range(n):"] + [
            "        " + x for x in body]
        lines += self._iteration(str(self.count - 1)) + ["for i in range(n):"] + [
            "    " + x for x in body + [f"o{inside[j]}[i] = v{self._at(inside[j])}"
                                      for j in lasts] + summed(last_sums)]
        return _module(self.dtype, args, lines, "one fused forward kernel, its loop rolled",
                       self._head_setup(), self.sums, loop=False)

    # ---- backward ----------------------------------------------------------------------
    def _backward_source(self, incoming: list, targets: list, carrying: set) -> str:
        live = self._live(incoming, carrying)
        h, period, nodes, count = self.head, self.period, self.nodes, self.count
        # Which iterations of each body position a gradient reaches (as the eager backward
        # visits only those): all, none, or some, told by the flags ``_LIVE``.
        reach = [[nodes[h + r * period + i] in live for r in range(count)]
                 for i in range(period)]
        mixed = [i for i in range(period) if 0 < sum(reach[i]) < count]
        # A body position gets adjoints if it carries gradients in any iteration (states that
        # swap carry them in every other one); where it does not, nothing it passes them to
        # carries either, so they reach no target.
        carries = [any((NODE, nodes[h + r * period + i]) in carrying for r in range(count))
                   for i in range(period)]
        program, inside = self.program, self.inside
        zero = "_f(0.0)" if self.cast else "0.0"
        target_of = {ref: f"e{m}" for m, ref in enumerate(targets)}
        ncar = len(self.carried)
        shared = self._shared()
        last = h + (count - 1) * period   # the last iteration's first position

        args, gins = ["n"], []
        k = 0
        for j, kind in zip(self.source_nodes, incoming):
            if kind is None:
                continue
            args.append(f"gin{k}")
            gins.append((inside[j], f"gin{k}[i]" if kind == ARR else f"gin{k}"))
            k += 1
        args += ["p"] + [f"x{m}" for m in range(len(self.inputs))]
        args += [f"out{m}" for m in range(len(targets))]

        def contributions(i: int, names: dict, dest_of) -> list:
            """Node position ``i``'s derivative formulas into their destinations."""
            j = nodes[i if i < h else last + (i - h)]
            if (j not in live) if i < h else not any(reach[i - h]):
                return []
            node = program.nodes[j]
            names = dict(names, g=f"g{i}", out=f"v{i}")
            out = []
            for letter, ref, formula in zip("abc", node.operands, node.op.grads):
                dest = dest_of(i, letter, ref) if formula else None
                if dest is not None:
                    out.append(f"{dest} += {render_formula(formula, names, self.cast)}")
            return out

        def before(ref, shared_dest: bool):
            """Where the gradient of an operand from before the loop goes: a head node's
            register (its array, from inside the loop), a target's, or nowhere."""
            if ref[0] == NODE and ref[1] in inside:
                x = inside[ref[1]]
                if (NODE, ref[1]) not in carrying:
                    return None
                return f"_gh{x}[i]" if shared_dest else f"g{x}"
            dest = target_of.get(ref) if ref[0] in (IN, NODE) else None
            return None if dest is None else (f"_{dest}[i]" if shared_dest else dest)

        def in_body(i, letter, ref):
            slot = self.slots[i - h].get(letter)
            if slot is not None and slot[0] == CARRIED:   # (the previous iteration's node)
                return f"gn{self._carry_index(i - h, letter)}" if carries[slot[1]] else None
            if ref[0] == NODE and ref[1] in inside and inside[ref[1]] >= h:
                x = (inside[ref[1]] - h) % period
                return f"g{h + x}" if carries[x] else None
            return before(ref, True)

        width = ncar + period
        sourced = sorted({i - last for i, _ in gins if i >= h})   # the last iteration's
        setup = self._head_setup() + [f"_buf = np.empty(({count}, {width}, n), _f)"] + \
            self._arrays() + [f"_gc{m} = np.zeros(n, _f)" for m in range(ncar)] + \
            [f"_gl{i} = np.zeros(n, _f)" for i in sourced] + \
            [f"_gh{x} = np.zeros(n, _f)" for x in shared] + \
            [f"_e{m} = np.zeros(n, _f)" for m in range(len(targets))]
        # The forward again, keeping each iteration's values.
        lines = self._head_loop([])
        lines += [f"for r in range({count}):"] + ["    " + x for x in self._iteration("r")]
        body = self._element() + self._body_lines()
        body += [f"_buf[r, {m}, i] = c{m}" for m in range(ncar)]
        body += [f"_buf[r, {ncar + i}, i] = v{h + i}" for i in range(period)]
        body += [f"_c{m}[i] = v{h + d}" for m, (_, _, d) in enumerate(self.carried)]
        lines += ["    for i in range(n):"] + ["        " + x for x in body]
        # The adjoints arriving at the last iteration's values.
        arrive = [f"_gl{i - last}[i] += {g}" for i, g in gins if i >= h]
        if arrive:
            lines += ["for i in range(n):"] + ["    " + x for x in arrive]
        # The iterations in reverse, each from its values.
        lines += [f"for rr in range({count}):", f"    r = {count - 1} - rr"] + [
            "    " + x for x in self._iteration("r")] + [
            f"    live{i} = _LIVE[r * {period} + {i}]" for i in mixed]
        loop = self._loads() + [f"v{x} = _h{x}[i]" for x in shared]
        loop += [f"c{m} = _buf[r, {m}, i]" for m in range(ncar)]
        loop += [f"v{h + i} = _buf[r, {ncar + i}, i]" for i in range(period)]
        loop += [f"g{h + i} = _gl{i}[i]" if i in sourced else f"g{h + i} = {zero}"
                 for i in range(period)]
        loop += [f"_gl{i}[i] = {zero}" for i in sourced]
        loop += [f"g{h + d} += _gc{m}[i]" for m, (_, _, d) in enumerate(self.carried)]
        loop += [f"gn{m} = {zero}" for m in range(ncar)]
        for i in range(h + period - 1, h - 1, -1):
            lines_i = contributions(i, self._body_names(i - h), in_body)
            if i - h in mixed and lines_i:
                lines_i = [f"if live{i - h}:"] + ["    " + x for x in lines_i]
            loop += lines_i
        loop += [f"_gc{m}[i] = gn{m}" for m in range(ncar)]
        lines += ["    for i in range(n):"] + ["        " + x for x in loop]
        # The head: its values again, the first iteration's carried adjoints, its formulas.
        final = [f"g{x} = _gh{x}[i]" if x in shared else f"g{x} = {zero}" for x in range(h)]
        final += [f"g{i} += {g}" for i, g in gins if i < h]
        final += [f"e{m} = _e{m}[i]" for m in range(len(targets))]
        for m, (i, letter, _) in enumerate(self.carried):
            dest = before(program.nodes[nodes[h + i]].operands["abc".index(letter)], False)
            if dest is not None:
                final.append(f"{dest} += _gc{m}[i]")
        for i in range(h - 1, -1, -1):
            final += contributions(i, self.body[i][1], lambda i, lt, ref: before(ref, False))
        final += [f"out{m}[i] = e{m}" for m in range(len(targets))]
        lines += self._head_loop(final)
        source = _module(self.dtype, args, lines, "one fused backward kernel, its loop rolled, "
                         "recomputing its forward", setup, loop=False)
        if mixed:   # (a constant of the module: Numba reads a global tuple as one)
            flags = tuple(reach[i][r] if i in mixed else False
                          for r in range(count) for i in range(period))
            source = source.replace("\n\n\n@njit", f"\n_LIVE = {flags!r}\n\n\n@njit", 1)
        return source
