"""Where and with what a sweep ran: commit, library versions, host and CPU (recorded in the results manifest).

Provenance describes a *session* (one ``run_sweep`` call), not the sweep: a sweep resumed on another machine,
commit or library version is still the same sweep. :meth:`tradeoff_gym.benchmarks.store.ResultStore.open_sweep`
appends one session record per call to the manifest's ``sessions`` list and never compares them; the report
shows them. Every field degrades to ``None`` when it cannot be found — collecting provenance never raises.
"""

from __future__ import annotations

import importlib.metadata
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

#: Distributions whose versions a session records (``python`` is the interpreter itself).
VERSIONED: tuple[str, ...] = ("tradeoff-gym", "torch", "gymnasium", "numpy", "pandas")
#: Seconds a ``git`` call may take before the commit is recorded as unknown.
GIT_TIMEOUT_S = 10.0


def package_version(distribution: str = "tradeoff-gym") -> str | None:
    """The installed version of ``distribution`` (importlib.metadata), or None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def source_root() -> Path:
    """The folder that holds the ``tradeoff_gym`` package folder: the checkout for an editable install."""
    import tradeoff_gym

    return Path(tradeoff_gym.__file__).resolve().parent.parent


def _git(root: Path, *args: str) -> str | None:
    """``git -C root <args>``'s stripped output, or None when git is missing, fails or times out."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(root: Path | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the package's source tree.

    Only when ``root`` (default :func:`source_root`) is the top of a git checkout: an installed wheel that
    happens to lie inside some other repository (a virtual environment inside a checkout) records None.
    ``dirty`` is True when tracked files differ from the commit (untracked files, such as results, do not count).
    """
    root = source_root() if root is None else Path(root)
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root.resolve():
        return {"commit": None, "dirty": None}
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`), or None."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, sep, value = line.partition(":")
                if sep and key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    try:
        return platform.processor() or platform.machine() or None
    except Exception:  # platform probes shell out on some systems; provenance never raises
        return None


def host_name() -> str | None:
    """This machine's host name, or None."""
    try:
        return socket.gethostname() or platform.node() or None
    except Exception:
        return None


def collect() -> dict[str, Any]:
    """This process's provenance: commit and dirty flag, Python and library versions, host name, CPU model.

    Keys: ``commit``, ``dirty``, ``python``, ``versions`` (distribution -> version or None, for
    :data:`VERSIONED`), ``host``, ``cpu``, ``platform``. Never raises.
    """
    record: dict[str, Any] = {"commit": None, "dirty": None}
    try:
        record.update(git_state())
    except Exception:  # e.g. tradeoff_gym without a __file__: still no error
        pass
    record["python"] = platform.python_version()
    record["versions"] = {name: package_version(name) for name in VERSIONED}
    record["host"] = host_name()
    record["cpu"] = cpu_model()
    try:
        record["platform"] = platform.platform()
    except Exception:
        record["platform"] = None
    return record


def describe(record: dict[str, Any]) -> str:
    """One line for a report: commit (and whether dirty), host, CPU, Python and library versions."""
    commit = record.get("commit")
    where = "no git checkout" if not commit else f"commit `{commit[:12]}`" + (
        " (uncommitted changes)" if record.get("dirty") else "")
    versions = record.get("versions") or {}
    libs = ", ".join(f"{name} {versions.get(name) or '?'}" for name in VERSIONED)
    return (f"{where}; host `{record.get('host') or '?'}`, CPU {record.get('cpu') or '?'}; "
            f"Python {record.get('python') or '?'}, {libs}")
