"""TAPEGRAD_DEBUG: 1 compile events, 2 also cache misses with their reason, 3 also the tape at
each backward, 4 also the generated source."""
from __future__ import annotations

import os

try:
    LEVEL = int(os.environ.get("TAPEGRAD_DEBUG", "0") or 0)
except ValueError:
    LEVEL = 0


def set_level(level: int) -> None:
    global LEVEL
    LEVEL = int(level)
