"""``tapegrad.profile``: interpreted against JIT backward, on your own code.

    python -m tapegrad.profile [--repeat N] [--plot FILE.png] [--json FILE] [--trace FILE.json]
                               [--sort KEY] SCRIPT [script args] [-- more script args]
    tapegrad.profile.compare(fn, *args, repeat=5)    # a Report; renders as tables in Jupyter
    Report.key_averages()                             # per backward op, like torch.profiler
    Report.to_trace("out.json")                       # Chrome trace: ui.perfetto.dev
"""
from .profiler import Profiler, compare
from .report import GraphReport, OpStat, OpTable, Report

__all__ = ["compare", "Profiler", "Report", "GraphReport", "OpTable", "OpStat"]
