"""The project's one atomic file write (results, manifests, policies), free of Gymnasium and of the layers above.

It lives here, beside :mod:`tradeoff_gym.learners.checks`, because every layer (agents' policy files, the benchmark
store) needs it and ``learners/`` is the bottom of the import graph.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: This host's name as it appears in temporary file names (letters, digits and '-' only).
HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
_TEMP = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.tmp$")


def atomic_write(path: Path | str, write: Callable[[BinaryIO], object]) -> None:
    """Create ``path`` through ``write(handle)`` so that a reader (or a crash) never sees a partial file.

    The temporary file lives next to ``path`` and carries this host's name and process id, so that a
    later cleaner can tell a dead writer's leftover from a live writer's file (:func:`temp_file_owner`).
    The file ends with the mode an ordinary ``open`` gives (0666 less the umask), not ``mkstemp``'s 0600, so a
    shared results directory stays readable.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{HOST}.{os.getpid()}.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~current_umask())
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """This process's umask, read without changing it where the system tells it (Linux), else set and restored."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader (or a crash) never sees a partial file."""
    atomic_write(path, lambda handle: handle.write(data))


def temp_file_owner(path: Path) -> tuple[str, int] | None:
    """(host, pid) of the process that wrote temporary file ``path``, or None if it is not one of ours."""
    match = _TEMP.match(Path(path).name)
    return (match["host"], int(match["pid"])) if match else None
