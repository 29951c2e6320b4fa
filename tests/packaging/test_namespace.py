"""One import namespace: the library installs as ``tradeoff_gym`` only, and foreign top-level packages named
``agents``, ``envs``, ``learners`` or ``benchmarks`` neither shadow it nor are touched by it.

The wheel is built from this checkout and installed into a folder of its own; the foreign packages come first
on the import path, as another distribution's site-packages (or a user's own ``envs/`` folder) would.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ("envs", "agents", "learners", "benchmarks")


def _source_packages() -> list[str]:
    """Every package of the source tree, under its installed name."""
    names = ["tradeoff_gym"]
    for folder in FOLDERS:
        for init in sorted((REPO / folder).rglob("__init__.py")):
            relative = init.parent.relative_to(REPO).as_posix().replace("/", ".")
            names.append(f"tradeoff_gym.{relative}")
    return names


def test_pyproject_lists_every_package_of_the_tree():
    """A package folder missing from pyproject's list would silently drop out of the wheel."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert sorted(config["packages"]) == sorted(_source_packages())
    assert config["package-dir"] == {"tradeoff_gym": "tradeoff_gym", **{f"tradeoff_gym.{f}": f for f in FOLDERS}}


def test_no_source_file_imports_a_bare_folder_name():
    """``import envs`` (or an entry point ``"agents.x:Y"``) would pick up whichever ``envs`` comes first on the path."""
    offenders = []
    for folder in (*FOLDERS, "tradeoff_gym", "tests", "examples"):
        for source in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(), str(source))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    names = [node.value] if node.value.split(":")[0].split(".")[0] in FOLDERS and (
                        "." in node.value.split(":")[0] or ":" in node.value) else []
                else:
                    continue
                offenders += [f"{source.relative_to(REPO)}:{node.lineno}: {name}" for name in names
                              if name.split(":")[0].split(".")[0] in FOLDERS]
    assert not offenders, "\n".join(offenders)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built from a copy: setuptools' build/ folder in the checkout may hold modules
    that were deleted since, and would put them in the wheel."""
    source = tmp_path_factory.mktemp("source") / "tradeoff-gym"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "results", "site", "*.egg-info", "__pycache__", ".pytest_cache"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(source)], check=True, capture_output=True, text=True, cwd=out)
    (built,) = out.glob("tradeoff_gym-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, text=True, cwd=target)
    return target


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Packages named like our folders, each saying whose it is."""
    root = tmp_path_factory.mktemp("foreign")
    for name in FOLDERS:
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(f'OWNER = "foreign-{name}"\nAgent = "not ours"\n')
    return root


def _digest(root: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(root.rglob("*.py")))).hexdigest()


def _run(code: str, path: list[Path], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    return subprocess.run([*args] if args else [sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_wheel_installs_one_top_level_name(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"tradeoff_gym"}
    for folder in FOLDERS:  # every module of the tree is in the wheel, under the namespace
        for source in (REPO / folder).rglob("*.py"):
            assert f"tradeoff_gym/{source.relative_to(REPO).as_posix()}" in names, source
    data = [path for path in (REPO / "envs" / "data").rglob("*") if path.is_file()]
    assert data  # what the envs read at run time (families' c*, the surrogate's calibrations) ships with them
    for path in data:
        assert f"tradeoff_gym/{path.relative_to(REPO).as_posix()}" in names, path


EPISODE = """
    import gymnasium as gym
    import agents, envs, learners, benchmarks
    import tradeoff_gym
    from tradeoff_gym.agents.registry import agent_names, make_agent
    from tradeoff_gym.benchmarks.run_loop import run_episode

    root = {root!r}
    assert tradeoff_gym.__file__.startswith(root), tradeoff_gym.__file__
    assert tradeoff_gym.envs.__file__.startswith(root), tradeoff_gym.envs.__file__
    env = gym.make("tradeoff/LearningCurves-v0", horizon=60)
    for name in agent_names():
        if not name.startswith("sb3"):
            frame = run_episode(env, make_agent(name, env), seed=1, agent_name=name)
            assert len(frame) == 60, name
    neural = gym.make("tradeoff/SerialParallel-v0", horizon=3)
    frame = run_episode(neural, make_agent("navigator", neural), seed=0)
    assert len(frame) == 3
    for module in (agents, envs, learners, benchmarks):
        assert module.OWNER == "foreign-" + module.__name__, module
    print("ok", sorted(k for k in gym.registry if k.startswith("tradeoff/")))
"""

PREFIX = """
    import gymnasium as gym
    import sys
    env = gym.make("tradeoff_gym:tradeoff/LearningCurves-v0", horizon=5)
    env.reset(seed=0)
    assert "tradeoff_gym" in sys.modules and "envs" not in sys.modules
    print("ok")
"""


def _check_beside_foreign(site: Path | None, foreign: Path, tmp_path: Path) -> None:
    before = _digest(foreign)
    path = [foreign] + ([site] if site else [])
    root = str(site) if site else str(REPO)
    result = _run(EPISODE.format(root=root), path, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok") and "tradeoff/SerialParallel-v0" in result.stdout
    result = _run(PREFIX, path, tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    assert _digest(foreign) == before


@pytest.mark.slow
def test_installed_wheel_works_beside_foreign_packages(installed: Path, foreign: Path, tmp_path: Path):
    _check_beside_foreign(installed, foreign, tmp_path)
    script = installed / "bin" / "tradeoff-bench"
    result = _run("", [foreign, installed], tmp_path, sys.executable, str(script), "list")
    assert result.returncode == 0, result.stderr
    assert "fig5" in result.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_editable_install_works_beside_foreign_packages(foreign: Path, tmp_path: Path):
    _check_beside_foreign(None, foreign, tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_spawned_async_workers_find_the_ids_through_the_module_prefix():
    """A spawned worker imports nothing of ours until the ``tradeoff_gym:`` prefix makes gym.make import it."""
    import gymnasium as gym
    import numpy as np

    vec = gym.make_vec("tradeoff_gym:tradeoff/LearningCurves-v0", num_envs=2, vectorization_mode="async",
                       vector_kwargs={"context": "spawn"}, horizon=5)
    try:
        vec.reset(seed=0)
        _, rewards, _, _, _ = vec.step(np.array([0, 1]))
        assert rewards.shape == (2,) and np.all(np.isfinite(rewards))
    finally:
        vec.close()
