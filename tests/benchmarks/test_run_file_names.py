"""Run files have readable names (``fig5+c0+ucb1+0.parquet``); directories of the percent-encoded scheme still work."""

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.runner import run_sweep
from tradeoff_gym.benchmarks.store import ResultStore, readable_stem, run_id_of

ENV = "tradeoff/LearningCurves-v0"
SCRIPT = Path(sys.executable).parent / "tradeoff-bench"


def specs(seeds=(0, 1)) -> list[RunSpec]:
    return [RunSpec(f"lc/c0/{agent}/{seed}", ENV, agent, seed, env_kwargs={"horizon": 5}, tags={"cost": 0.0})
            for agent in ("serial", "random") for seed in seeds]


def test_readable_names_are_reversible_and_collision_free():
    ids = ["fig5/c0/ucb1/0", "fig5+c0/ucb1/0", "fig5%2Fc0", "a_b/c", "a__b", "a/_b", "a_/b", "a b/ü/€", "a~b",
           "..", ".hidden/x", "a//b", "a/%/+", "k=v,w/x", "k%3Dv"]
    stems = [readable_stem(run_id) for run_id in ids]
    assert stems[0] == "fig5+c0+ucb1+0"
    assert readable_stem("fig5/preset=noisy,horizon=30/c0/ucb1/0") == "fig5+preset=noisy,horizon=30+c0+ucb1+0"
    assert len(set(stems)) == len(ids)
    assert [run_id_of(stem) for stem in stems] == ids
    for stem in stems:
        assert "/" not in stem and "\\" not in stem and " " not in stem
    for run_id in ids:  # the old scheme's names decode the same way
        assert run_id_of(urllib.parse.quote(run_id, safe="")) == run_id


def test_a_new_directory_names_run_files_readably(tmp_path):
    summary = run_sweep(specs(), ResultStore(tmp_path), {"experiment": "test"}, jobs=1, progress=False)
    assert summary.completed == 4
    names = sorted(path.name for path in (tmp_path / "runs").iterdir())
    assert "lc+c0+serial+0.parquet" in names and "lc+c0+serial+0.json" in names
    assert json.loads((tmp_path / "manifest.json").read_text())["file_names"] == "readable"


def test_a_percent_encoded_directory_resumes_and_reports_exactly_and_keeps_its_names(tmp_path):
    manifest = {"experiment": "test", "settings": {"seeds": 2}}
    run_sweep(specs(), ResultStore(tmp_path), manifest, jobs=1, progress=False)
    # as a version before readable names left it: percent-encoded file names, no file_names in the manifest
    for path in (tmp_path / "runs").iterdir():
        path.rename(path.with_name(urllib.parse.quote(run_id_of(path.stem), safe="") + path.suffix))
    held = json.loads((tmp_path / "manifest.json").read_text())
    del held["file_names"]
    (tmp_path / "manifest.json").write_text(json.dumps(held))
    old = sorted(path.name for path in (tmp_path / "runs").iterdir())
    assert "lc%2Fc0%2Fserial%2F0.parquet" in old
    frame, damaged = ResultStore(tmp_path).read()
    assert not damaged and frame.run_id.nunique() == 4

    again = run_sweep(specs(), ResultStore(tmp_path), manifest, jobs=1, progress=False)
    assert (again.completed, again.skipped) == (0, 4)  # nothing replayed
    assert sorted(path.name for path in (tmp_path / "runs").iterdir()) == old  # nothing renamed
    wider = {"experiment": "test", "settings": {"seeds": 3}}
    extended = run_sweep(specs(seeds=(0, 1, 2)), ResultStore(tmp_path), wider, jobs=1, progress=False)
    assert (extended.completed, extended.skipped) == (2, 4)
    assert (tmp_path / "runs" / "lc%2Fc0%2Fserial%2F2.parquet").is_file()  # the directory keeps its one scheme
    assert not list((tmp_path / "runs").glob("*+*"))
    assert json.loads((tmp_path / "manifest.json").read_text())["file_names"] == "percent"
    assert set(ResultStore(tmp_path).run_seconds()) == {spec.run_id for spec in specs(seeds=(0, 1, 2))}
    frame, damaged = ResultStore(tmp_path).read()
    assert not damaged and frame.run_id.nunique() == 6


def test_the_console_script_resumes_and_reports_a_percent_encoded_directory(tmp_path):
    command = [str(SCRIPT), "run", "fig5", "--scale", "smoke", "--agents", "serial,parallel", "--costs", "0",
               "--jobs", "1", "--no-progress", "--out", "old"]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    root = tmp_path / "old"
    for path in (root / "runs").iterdir():
        path.rename(path.with_name(urllib.parse.quote(run_id_of(path.stem), safe="") + path.suffix))
    held = json.loads((root / "manifest.json").read_text())
    del held["file_names"]
    (root / "manifest.json").write_text(json.dumps(held))
    names = sorted(path.name for path in (root / "runs").iterdir())
    runs = len(names) // 2
    assert all("%2F" in name for name in names)
    report = subprocess.run([str(SCRIPT), "report", "old"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    assert f"runs complete: {runs} of {runs}" in (root / "report.md").read_text()
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and f"0 runs done, {runs} already complete" in again.stdout
    assert sorted(path.name for path in (root / "runs").iterdir()) == names
