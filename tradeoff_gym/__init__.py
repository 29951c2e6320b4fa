"""tradeoff-gym: environments, agents and benchmarks for the serial-vs-parallel training trade-off.

One import namespace holds the whole library: :mod:`tradeoff_gym.envs` (Gymnasium environments),
:mod:`tradeoff_gym.agents` (strategy-choosing agents), :mod:`tradeoff_gym.learners` (the neural task
learners, no Gymnasium) and :mod:`tradeoff_gym.benchmarks` (experiments, the run loop, the store, the CLI).

Importing this package registers the environment ids with Gymnasium, as ``import ale_py`` or
``import minigrid`` do; a fresh process (a subprocess vector env, a Dask worker) finds them through the
module prefix ``gym.make("tradeoff_gym:tradeoff/SerialParallel-v0")``. See ``docs/index.md``.
"""

from __future__ import annotations

from importlib import metadata

from tradeoff_gym import envs  # noqa: F401  (registers the environment ids)

try:
    __version__: str = metadata.version("tradeoff-gym")
except metadata.PackageNotFoundError:  # a source tree used without installing it
    __version__ = "0+unknown"

__all__ = ["__version__", "envs"]
