"""TAPEGRAD_DEBUG: 1 compile events, 2 also cache misses with their reason, 3 also the tape at
each backward, 4 also the generated source."""
from __future__ import annotations

from ..envvars import env_int

LEVEL = env_int("TAPEGRAD_DEBUG", 0)


def set_level(level: int) -> None:
    global LEVEL
    LEVEL = int(level)
