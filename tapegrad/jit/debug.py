"""TAPEGRAD_DEBUG: 1 compile events, 2 also cache misses with their reason, 3 also the tape at
each backward, 4 also the generated source."""
from __future__ import annotations

from ..envvars import env_int

LEVEL = env_int("TAPEGRAD_DEBUG", 0)


def set_level(level: int) -> None:
    """Sets the JIT's debug output (as ``TAPEGRAD_DEBUG``): 0 none; 1 each compile with its time; 2
    also each trace-cache miss and its reason; 3 also the tape at each backward; 4 also the
    generated source."""
    global LEVEL
    LEVEL = int(level)
