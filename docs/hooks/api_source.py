"""mkdocs hook: give mkdocstrings a ``tradeoff_gym`` source tree it can read statically.

The package installs its four library folders (``envs/``, ``agents/``, ``learners/``, ``benchmarks/``) as
``tradeoff_gym.envs`` … through setuptools' ``package-dir``; a source reader that walks folders finds
``tradeoff_gym/`` but not those sub-packages. This hook links them under ``build/docs-src/tradeoff_gym/``
(``build/`` is git-ignored), the path ``mkdocs.yml`` gives the Python handler.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "build" / "docs-src" / "tradeoff_gym"
SUBPACKAGES = ("envs", "agents", "learners", "benchmarks")


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())


def build_tree() -> None:
    """Create or refresh the linked tree (idempotent)."""
    TREE.mkdir(parents=True, exist_ok=True)
    for entry in (ROOT / "tradeoff_gym").iterdir():
        if entry.suffix == ".py":
            _link(TREE / entry.name, entry)
    for name in SUBPACKAGES:
        _link(TREE / name, ROOT / name)


build_tree()  # at import, before any page is rendered


def on_startup(**kwargs: object) -> None:
    build_tree()


# Docstrings cite objects with reST roles (``:class:`Strategy```); Markdown renders the role's name as text
# before the code span. Drop the role, keep the code span (and drop the ``~`` of ``:class:`~a.b.C```).
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const|type):(<code>)~?")


def on_page_content(html: str, **kwargs: object) -> str:
    return _ROLE.sub(r"\1", html)
