"""Torch's intra-op thread count, fixed by a learner for the duration of its work.

Why a learner fixes it (setting ``threads``, default 1) rather than inheriting the caller's:

* **Reproducible from the record**: float reductions split over threads sum in a different order, so the same
  seed trained with 1 or with 8 threads gives different networks (and, through the rewards, different agent
  choices). A learner that always trains with its recorded thread count replays bit-identically whatever
  the caller's ``torch.get_num_threads()``.
* **Fork-safe**: a process forked after its parent ran torch with several threads inherits an OpenMP pool
  whose threads do not exist in the child; the first multi-threaded torch op there waits for them forever
  (``gym.make_vec(..., vectorization_mode="async")``, SB3's ``SubprocVecEnv`` with ``fork``). With one
  thread torch never enters the pool. (``threads > 1`` in a forked child can still hang: use the
  ``spawn``/``forkserver`` start methods then.)

:class:`torch_threads` switches only when the current count differs and restores it on exit; both calls
are C-level setters (well under a microsecond each), so a trial pays nothing measurable.
"""

from __future__ import annotations

from types import TracebackType

import numpy as np
import torch

#: The largest ``threads`` a learner accepts: above the core count of any machine this runs on (a count above the
#: caller's cores is allowed, so a run recorded on a larger machine replays elsewhere), far below the OpenMP pool
#: sizes that abort the whole process inside libgomp, with no Python traceback (``threads=10**6``).
MAX_THREADS = 1024


def check_threads(value: int, field: str = "threads") -> int:
    """Raise a ValueError naming ``field`` unless ``value`` is an integer in [1, :data:`MAX_THREADS`]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_THREADS:
        raise ValueError(
            f"{field} must be an integer in [1, {MAX_THREADS}] (torch's intra-op threads while the learner works), "
            f"got {value!r}"
        )
    return int(value)


class torch_threads:  # noqa: N801  (used like a function: ``with torch_threads(1): ...``)
    """Context manager: run the block with ``torch.set_num_threads(n)``, then restore the caller's count.

    Does nothing when the count is already ``n`` (the common case in sweeps, whose workers run one thread).
    Nesting is fine: an inner block with the same ``n`` costs one ``get_num_threads`` call.
    """

    __slots__ = ("n", "_previous")

    def __init__(self, n: int) -> None:
        self.n = n
        self._previous = 0

    def __enter__(self) -> None:
        current = torch.get_num_threads()
        if current != self.n:
            self._previous = current
            torch.set_num_threads(self.n)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._previous:
            torch.set_num_threads(self._previous)
            self._previous = 0
