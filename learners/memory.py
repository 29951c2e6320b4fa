"""Fail fast on memory: refuse, before allocating, a footprint the machine cannot hold.

An environment that asks for more than the machine has does not fail cleanly: it swaps, slows to a crawl and is
killed by the kernel, with no Python traceback. So the big allocations (a batched learner's K learners, the
decks LearningCurves draws at reset) first estimate their footprint and call :func:`check_memory`, which raises
a ValueError giving the estimate and the limit.

The limit (:func:`memory_limit`): ``TRADEOFF_GYM_MEMORY_LIMIT`` (bytes, e.g. ``8e9``) if set, else
:data:`MEMORY_FRACTION` of the memory available now (``MemAvailable`` in ``/proc/meminfo``; elsewhere the free
physical pages, ``os.sysconf``); no check where neither is known. docs/environments/index.md#memory.
"""

from __future__ import annotations

import os

#: The environment variable that sets the memory limit in bytes (a positive number), overriding the measured one.
MEMORY_LIMIT_VARIABLE = "TRADEOFF_GYM_MEMORY_LIMIT"
#: The share of the available memory one footprint may take (the rest: the caller, the OS, estimate error).
MEMORY_FRACTION = 0.8


def _available() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``, else free physical pages), or None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit() -> tuple[int | None, str]:
    """The largest footprint allowed, in bytes (None: no limit known), and where it comes from (for messages)."""
    given = os.environ.get(MEMORY_LIMIT_VARIABLE)
    if given is not None:
        try:
            limit = float(given)
        except ValueError:
            limit = float("nan")
        if not limit >= 1 or limit == float("inf"):
            raise ValueError(f"{MEMORY_LIMIT_VARIABLE} must be a number of bytes >= 1 (e.g. 8e9), got {given!r}")
        return int(limit), f"{MEMORY_LIMIT_VARIABLE}={given}"
    available = _available()
    if available is None:
        return None, "available memory unknown"
    return int(MEMORY_FRACTION * available), f"{MEMORY_FRACTION:.0%} of the {_gb(available)} available now"


def check_memory(estimate: float, what: str, advice: str) -> None:
    """Raise a ValueError giving the estimate and the limit if ``estimate`` bytes exceed :func:`memory_limit`.

    ``what`` names the thing that would be allocated (its settings), ``advice`` what to lower.
    """
    limit, source = memory_limit()
    if limit is not None and estimate > limit:
        raise ValueError(
            f"{what} needs about {_gb(estimate)} of memory (estimated before allocating), more than the limit of "
            f"{_gb(limit)} ({source}); {advice}, or set {MEMORY_LIMIT_VARIABLE} (bytes) to allow more"
        )


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB"
