"""``tapegrad.profile``: interpreted against JIT backward, on your own code.

    python -m tapegrad.profile SCRIPT [script args] [--repeat N] [--plot FILE.png] [--json FILE]
    tapegrad.profile.compare(fn, *args, repeat=5)
"""
from .profiler import GraphReport, Profiler, Report, compare

__all__ = ["compare", "Profiler", "Report", "GraphReport"]
