"""What runs on a Dask worker before a sweep: the two worker plugins and the import check.

Kept apart from :mod:`tradeoff_gym.benchmarks.cluster` because it imports ``distributed`` at module level (its
plugins subclass :class:`distributed.WorkerPlugin`), which the CLI must not import unless a sweep uses Dask. Both
plugins are registered on the scheduler, so a worker that joins later (a Slurm job that starts late, a restarted
worker) runs them too. See docs/benchmarks/cluster.md.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

#: Folder under a worker's ``local_directory`` holding the shipped modules, one sub-folder per payload digest.
SHIPPED_FOLDER = "tradeoff-gym-modules"


class ShippedModules(WorkerPlugin):
    """Unpack a zip of the client's modules on each worker and put its folder first on ``sys.path``.

    ``payload`` is a zip whose top level holds the modules (``mymod.py``) and package folders (``mypkg/``);
    ``digest`` names its content (equal content, equal folder: a worker unpacks it once); ``names`` the top-level
    module names in it. Setup imports nothing (an import error is the check's to report, with its worker) and drops
    an older copy of those modules from ``sys.modules``, so the next import reads the shipped version.
    """

    def __init__(self, payload: bytes, digest: str, names: list[str]) -> None:
        self.payload, self.digest, self.names = payload, digest, list(names)
        self.folder: str | None = None

    def setup(self, worker: Any) -> None:
        """Unpack the payload (atomically: a temporary folder renamed into place) and prepend its folder."""
        root = Path(worker.local_directory) / SHIPPED_FOLDER
        root.mkdir(parents=True, exist_ok=True)
        folder = root / self.digest
        if not folder.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=f".{self.digest}.", dir=root))
            with zipfile.ZipFile(io.BytesIO(self.payload)) as archive:
                archive.extractall(staging)
            try:
                staging.rename(folder)
            except OSError:  # another worker process on this folder won the race: same content
                shutil.rmtree(staging, ignore_errors=True)
        self.folder = str(folder)
        _prepend(self.folder)
        for name in list(sys.modules):
            if name.partition(".")[0] in self.names and not _lies_in(sys.modules[name], self.folder):
                del sys.modules[name]
        importlib.invalidate_caches()

    def teardown(self, worker: Any) -> None:
        """Take the folder off ``sys.path`` again (the plugin was replaced or removed)."""
        if self.folder in sys.path:
            sys.path.remove(self.folder)


class WorkerPath(WorkerPlugin):
    """Prepend ``dirs`` (paths as the worker sees them, e.g. on a shared filesystem) to each worker's ``sys.path``.

    Missing folders are skipped here; :func:`check_worker` reports them.
    """

    def __init__(self, dirs: list[str]) -> None:
        self.dirs = list(dirs)
        self.added: list[str] = []

    def setup(self, worker: Any) -> None:
        """Prepend the folders, the first given first on the path."""
        for folder in reversed(self.dirs):
            if folder not in sys.path:
                self.added.append(folder)
            _prepend(folder)
        importlib.invalidate_caches()

    def teardown(self, worker: Any) -> None:
        """Remove the folders this plugin added."""
        for folder in self.added:
            if folder in sys.path:
                sys.path.remove(folder)


def check_worker(
    agents: list[str], modules: list[str], env_ids: list[str], dirs: list[str], devices: list[str],
    dask_worker: Any = None,
) -> list[tuple[str, str, str]]:
    """Run on a worker (``client.run``): what this worker cannot do of a sweep, as ``(kind, name, error)``.

    ``agents`` are loaded as the runs load them (:func:`~tradeoff_gym.agents.registry.load_agent_class`), ``modules``
    imported, ``env_ids`` looked up in Gymnasium's registry (a ``module:`` prefix imports the module), ``dirs`` must be
    folders here and each of ``devices`` must exist here (:func:`tradeoff_gym.envs.check_device`). Empty: all well.
    """
    import gymnasium as gym

    from tradeoff_gym.agents.registry import load_agent_class
    from tradeoff_gym.envs import check_device

    where = f"Dask worker {dask_worker.address}" if dask_worker is not None else "this worker"
    problems: list[tuple[str, str, str]] = []
    for folder in dirs:
        if not os.path.isdir(folder):
            problems.append(("pythonpath", folder, "not a folder"))
    for kind, names, load in (("module", modules, importlib.import_module), ("agent", agents, load_agent_class),
                              ("env", env_ids, gym.spec)):
        for name in names:
            try:
                load(name)
            except BaseException as error:  # whatever a user's module raises on import (SystemExit too)
                problems.append((kind, name, _one_line(error)))
    for device in devices:
        try:
            check_device(device, where=where)
        except ValueError as error:
            problems.append(("device", device, str(error)))
    return problems


def _prepend(folder: str) -> None:
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)


def _lies_in(module: Any, folder: str) -> bool:
    file = getattr(module, "__file__", None)
    return bool(file) and os.path.abspath(file).startswith(os.path.abspath(folder) + os.sep)


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())
