"""Tensor printing, following PyTorch's ``torch/_tensor_str.py`` rule for rule, so scripts
print what they printed under PyTorch."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import dtypes
from .registry import provide


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Sets how tensors print, as PyTorch's: ``precision``, ``threshold`` (elements before
    summarising), ``edgeitems``, ``linewidth``, ``profile`` ('default', 'short', 'full') and
    ``sci_mode``."""
    if profile == "default":
        PRINT_OPTS.__init__()
    elif profile == "short":
        PRINT_OPTS.__init__(2, 1000, 2, 80)
    elif profile == "full":
        PRINT_OPTS.__init__(4, math.inf, 3, 80)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        prec = PRINT_OPTS.precision
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(str(v)))
        else:
            finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if finite.size == 0:
                pass
            else:
                absv = np.abs(finite)
                lo, hi = float(absv.min()), float(absv.max())
                vals = finite.tolist()
                self.int_mode = bool(np.all(finite == np.ceil(finite)))
                if self.int_mode:
                    if hi / lo > 1000.0 or hi > 1.0e8:
                        self.sci_mode = True
                        widths = (len(f"{v:.{prec}e}") for v in vals)
                    else:
                        widths = (len(f"{v:.0f}") + 1 for v in vals)
                else:
                    if hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
                        self.sci_mode = True
                        widths = (len(f"{v:.{prec}e}") for v in vals)
                    else:
                        widths = (len(f"{v:.{prec}f}") for v in vals)
                self.max_width = max(self.max_width, max(widths))
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def format(self, value) -> str:
        prec = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{prec}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{prec}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a: np.ndarray) -> np.ndarray:
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if a.shape[0] > 2 * e:
        rows = [a[i] for i in range(e)] + [a[i] for i in range(len(a) - e, len(a))]
    else:
        rows = list(a)
    return np.stack([_summarized(r) for r in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    element_length = fmt.max_width + 2
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a: np.ndarray, indent: int, summarize: bool, fmt) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_tensor_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(e)]
                  + ["..."]
                  + [_tensor_str_with_formatter(a[i], indent + 1, summarize, fmt)
                     for i in range(len(a) - e, len(a))])
    else:
        slices = [_tensor_str_with_formatter(a[i], indent + 1, summarize, fmt)
                  for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def tensor_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    summarize = a.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(a) if summarize else a)
    return _tensor_str_with_formatter(a, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t) -> str:
    prefix = "tensor("
    indent = len(prefix)
    a = t._data
    dt = t.dtype
    suffixes = []
    default = dt in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dt is not dtypes.get_default_dtype():
            suffixes.append(f"dtype={dt!r}")
        body = "[]"
    else:
        if not default:
            suffixes.append(f"dtype={dt!r}")
        body = tensor_str(a, indent)
    if t._slot is not None:
        suffixes.append(f"grad_fn=<{t._tape.records[t._slot].name}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


# ---- HTML tables for Jupyter --------------------------------------------------------------
TABLE_STYLE = ("font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', "
               "monospace; font-size: 12px; border-collapse: collapse")
CELL_STYLE = "white-space: pre; text-align: left; padding: 1px 8px; font-family: inherit"
MARK_STYLE = "background: #ffe3e3; font-weight: bold"


def html_table(header, rows, marked=(), caption: str | None = None, notes=()) -> str:
    """A table for Jupyter: monospace cells that never wrap (the block scrolls instead), and the
    rows at indices ``marked`` highlighted (also marked ``class="tg-marked"``, for a page
    without styles). Every cell is escaped; ``notes`` are paragraphs under the table."""
    import html
    esc = html.escape
    marked = set(marked)
    out = ['<div class="tg-table" style="overflow-x: auto; max-width: 100%">']
    out.append(f'<table style="{TABLE_STYLE}">')
    if caption:
        out.append(f'<caption style="text-align: left; font-family: inherit">{esc(caption)}'
                   "</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th style="{CELL_STYLE}; border-bottom: 1px solid #999">{esc(str(h))}</th>'
        for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for i, row in enumerate(rows):
        attrs = f' class="tg-marked" style="{MARK_STYLE}"' if i in marked else ""
        out.append(f"<tr{attrs}>" + "".join(
            f'<td style="{CELL_STYLE}">{esc(str(c))}</td>' for c in row) + "</tr>")
    out.append("</tbody></table>")
    for note in notes:
        out.append(f'<p style="font-family: monospace; white-space: pre-wrap">{esc(note)}</p>')
    out.append("</div>")
    return "\n".join(out)


provide("html_table", html_table)


def text_table(header, rows, right=()) -> str:
    """The same table as text: columns padded to their widest cell (``right``: indices of
    right-aligned columns)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)]
                     + [line(r) for r in cells[1:]])
