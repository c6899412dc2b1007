"""Drawing the tape behind a tensor.

``tapegrad.viz.draw(t)`` draws it as SVG by itself, with no Graphviz: the tape is already in
topological order, so the drawing is one row per record (forward order, top to bottom), arrows
from each input, the records each fused backward kernel would take over shaded together, and
the record where the first non-finite adjoint arrives (and the one ``detect_anomaly`` stops at)
outlined. In Jupyter the result shows as the drawing; ``.svg`` is the text, ``.save(path)``
writes it.

``tapegrad.viz.to_dot(t)`` gives Graphviz DOT text instead, which renders itself as SVG in
Jupyter when the optional ``graphviz`` package and its ``dot`` program are installed
(``to_svg`` raises a clear error when they are not).
"""
from __future__ import annotations

import html

from .explain import _records_of
from .tape import LEAF, format_record, type_str
from .tensor import Tensor

ROW_H = 24      # height of one record's box
GAP = 10        # between boxes
CHAR_W = 7.2    # monospace 12px advance, near enough for box widths
SHADES = ("#dbe8fb", "#dff3e3", "#fbeed5", "#eadcf8")  # fused runs, in turn


class Drawing:
    """An SVG drawing of a tape; shows itself in Jupyter."""

    def __init__(self, svg: str, records: int) -> None:
        self.svg = svg
        self.records = records

    def _repr_svg_(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<tapegrad.viz.Drawing: {self.records} records, {len(self.svg)} characters of SVG>"

    def save(self, path: str) -> None:
        """Write the SVG to ``path``."""
        with open(path, "w") as f:
            f.write(self.svg)


def _fused_runs(order) -> list:
    """The slots of each fused backward kernel the JIT would make, in backward order."""
    from .jit.plan import graph_key, make_plan
    by_slot = {r.out: r for r in order}
    plan = make_plan(order, by_slot, graph_key(order, None))
    return [[order[rr.position].out for rr in run.records] for run in plan.runs]


def _marks(t: Tensor) -> dict:
    """slot -> (colour, note): where the first non-finite adjoint arrives and where
    ``detect_anomaly`` stops, when ``t`` is a scalar whose backward can be traced."""
    from .explain import trace_backward
    if t.numel() != 1:
        return {}
    try:
        trace = trace_backward(t)
    except RuntimeError:  # freed by an earlier backward, say: draw without marks
        return {}
    marks = {}
    if trace.first_nonfinite is not None:
        r = trace.first_nonfinite
        marks[r.slot] = ("#e8590c", f"first non-finite adjoint (made by {r.made_by})")
    if trace.anomaly is not None:
        r = trace.anomaly
        note = f"detect_anomaly stops here: nan in its {r.nan_output}th output"
        old = marks.get(r.slot)
        marks[r.slot] = ("#c92a2a", note if old is None else f"{note}; {old[1]}")
    return marks


def draw(t: Tensor, marks: bool = True) -> Drawing:
    """Draw the records ``t`` depends on as SVG (no Graphviz needed). ``marks``: outline where
    the first non-finite adjoint arrives and where ``detect_anomaly`` would stop (for a scalar
    ``t``; this runs a dry backward, which changes nothing)."""
    records = _records_of(t)
    if records is None:
        svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="420" height="30">'
               '<text x="4" y="20" font-family="monospace" font-size="12">no history: nothing '
               "was recorded for this tensor</text></svg>")
        return Drawing(svg, 0)
    order = records                      # backward order (latest first)
    forward = list(reversed(order))      # drawn top to bottom
    row = {rec.out: i for i, rec in enumerate(forward)}
    shade = {}
    kernel_of = {}
    for k, slots in enumerate(_fused_runs(order)):
        for s in slots:
            shade[s] = SHADES[k % len(SHADES)]
            kernel_of[s] = k + 1
    mark = _marks(t) if marks else {}
    labels = []
    for rec in forward:
        text = format_record(rec, comment=False)
        if rec.op is not LEAF:
            text += f"   {rec.name}"
        labels.append(text)
    # Edges that skip rows go round the left margin, further out the longer they are.
    edges = [(row[s], row[rec.out]) for rec in forward for s in rec.ins if s is not None]
    longest = max([b - a for a, b in edges if b - a > 1], default=0)
    margin = 20 + 5 * min(longest, 40)
    box_w = max(len(x) for x in labels) * CHAR_W + 16
    notes_x = margin + box_w + 14
    note_len = max([len(f"kernel {kernel_of[s]}") for s in kernel_of] +
                   [len(n) for _, n in mark.values()] + [0])
    width = int(notes_x + note_len * CHAR_W + 10)
    height = int(len(forward) * (ROW_H + GAP) + GAP)

    def top(i):
        return GAP + i * (ROW_H + GAP)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, '
           'monospace" font-size="12">',
           '<defs><marker id="tg-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>']
    for a, b in edges:
        if b - a == 1:
            x = margin + 24
            out.append(f'<line class="tg-edge" x1="{x}" y1="{top(a) + ROW_H}" x2="{x}" '
                       f'y2="{top(b)}" stroke="#555" marker-end="url(#tg-arrow)"/>')
        else:
            ya, yb = top(a) + ROW_H / 2, top(b) + ROW_H / 2
            xo = margin - 12 - 5 * min(b - a, 40)
            out.append(f'<path class="tg-edge" d="M {margin} {ya} C {xo} {ya}, {xo} {yb}, '
                       f'{margin} {yb}" fill="none" stroke="#555" '
                       'marker-end="url(#tg-arrow)"/>')
    for i, (rec, text) in enumerate(zip(forward, labels)):
        y = top(i)
        fill = shade.get(rec.out, "#f4f4f4" if rec.op is LEAF else "#ffffff")
        stroke, width_px = "#888", 1
        if rec.out in mark:
            stroke, width_px = mark[rec.out][0], 3
        rx = 11 if rec.op is LEAF else 3
        kind = "leaf" if rec.op is LEAF else rec.op.name
        out.append(f'<g class="tg-record" data-slot="{rec.out}" data-op="{html.escape(kind)}">'
                   f'<title>{html.escape(type_str(rec.dtype, rec.shape))} {html.escape(rec.name)}'
                   f'</title><rect x="{margin}" y="{y}" width="{box_w:.0f}" height="{ROW_H}" '
                   f'rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="{width_px}"/>'
                   f'<text x="{margin + 8}" y="{y + 16}" xml:space="preserve">'
                   f"{html.escape(text)}</text></g>")
        notes = []
        if rec.out in kernel_of:
            notes.append(f"kernel {kernel_of[rec.out]}")
        if rec.out in mark:
            notes.append(mark[rec.out][1])
        if notes:
            colour = mark[rec.out][0] if rec.out in mark else "#555"
            out.append(f'<text x="{notes_x}" y="{y + 16}" fill="{colour}">'
                       f"{html.escape('; '.join(notes))}</text>")
    out.append("</svg>")
    return Drawing("\n".join(out), len(forward))


# ---- Graphviz (optional) ---------------------------------------------------------------
class Dot(str):
    """DOT source; in Jupyter it shows as a drawing when Graphviz is available."""

    def _repr_svg_(self):
        try:
            return to_svg_text(self)
        except RuntimeError:
            return None


def to_dot(t: Tensor) -> Dot:
    """The graph behind ``t`` as Graphviz DOT text."""
    records = _records_of(t)
    lines = ["digraph tape {", "  rankdir=BT;", '  node [fontname="monospace", fontsize=10];']
    if records is None:
        lines.append('  none [shape=plaintext, label="no history: nothing was recorded"];')
    for rec in reversed(records or []):
        kind = type_str(rec.dtype, rec.shape)
        if rec.op is LEAF:
            lines.append(f'  r{rec.out} [shape=ellipse, label="%{rec.out} input\\n{kind}"];')
        else:
            style = ', style=filled, fillcolor="#e8f0fe"' if rec.op.elementwise else ""
            lines.append(f'  r{rec.out} [shape=box{style}, label="%{rec.out} {rec.op.name}'
                         f'\\n{kind}\\n{rec.name}"];')
        for s in rec.ins:
            if s is not None:
                lines.append(f"  r{s} -> r{rec.out};")
    lines.append("}")
    return Dot("\n".join(lines) + "\n")


def to_svg_text(dot: str) -> str:
    """Render DOT text with Graphviz (the ``graphviz`` package and its ``dot`` program)."""
    try:
        import graphviz
    except ImportError:
        raise RuntimeError("drawing with Graphviz needs the graphviz package: pip install "
                           "'tapegrad[draw]' (tapegrad.viz.draw needs nothing)") from None
    try:
        return graphviz.Source(dot).pipe(format="svg").decode()
    except graphviz.ExecutableNotFound:
        raise RuntimeError("drawing with Graphviz needs its dot program (apt-get install "
                           "graphviz); tapegrad.viz.draw needs nothing") from None


def to_svg(t: Tensor) -> str:
    """``t``'s graph as SVG through Graphviz (see ``draw`` for a drawing without it)."""
    return to_svg_text(to_dot(t))
