"""``tapegrad.viz.to_dot(t)``: the graph behind a tensor as Graphviz DOT text, which renders
itself as SVG in Jupyter when the optional ``graphviz`` package and its ``dot`` binary are
installed (``to_svg`` raises a clear error when they are not)."""
from __future__ import annotations

from .explain import _records_of
from .tape import LEAF, type_str
from .tensor import Tensor


class Dot(str):
    """DOT source; in Jupyter it shows as a drawing when Graphviz is available."""

    def _repr_svg_(self):
        try:
            return to_svg_text(self)
        except RuntimeError:
            return None


def to_dot(t: Tensor) -> Dot:
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
    try:
        import graphviz
    except ImportError:
        raise RuntimeError("drawing needs the graphviz package: pip install 'tapegrad[draw]'") \
            from None
    try:
        return graphviz.Source(dot).pipe(format="svg").decode()
    except graphviz.ExecutableNotFound:
        raise RuntimeError("drawing needs Graphviz's dot program (apt-get install graphviz)") \
            from None


def to_svg(t: Tensor) -> str:
    return to_svg_text(to_dot(t))
