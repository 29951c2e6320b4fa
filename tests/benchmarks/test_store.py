"""The result store never misreports: other settings are refused, checks are read-only, damage is reported."""

import fcntl
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.store import HOST, ResultStore, atomic_write_bytes, temp_file_owner

# sagiv2018 at smoke scale: 2 midpoints × 1 cost × agents × 1 seed of the fast LearningCurves env.
SMOKE = ["run", "sagiv2018", "--scale", "smoke", "--jobs", "1", "--no-progress"]
AGENTS = ["--agents", "serial,ucb1"]  # 4 runs


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones included) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_files(root: Path) -> dict[str, bytes]:
    """The run data, records and manifest (what a refused or read-only command must leave untouched)."""
    return {k: v for k, v in snapshot(root).items() if k.startswith(("runs/", "manifest", "failed/"))}


@pytest.fixture()
def done(tmp_path) -> Path:
    """A finished 4-run sweep."""
    out = tmp_path / "done"
    assert main([*SMOKE, *AGENTS, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--costs", "0.2"], "with costs [0.1]; this command asks costs [0.2]"),
        (["--agents", "serial"], "with agents ['serial', 'ucb1']; this command asks agents ['serial']"),
        (["--set", "parallel_midpoints=[200]"], "parallel_midpoints [200, 600]; this command asks parallel_midpoints"),
        (["--scale", "quick"], "holds sagiv2018 at scale smoke with "),
    ],
    ids=["costs", "agents", "set", "scale"],
)
def test_a_sweep_that_would_change_or_drop_held_runs_is_refused_and_touches_nothing(done, change, message, capsys):
    before = snapshot(done)
    capsys.readouterr()
    argv = [*SMOKE, *AGENTS, *change, "--out", str(done)]
    if change[0] == "--agents":
        argv = [*SMOKE, *change, "--out", str(done)]
    if change[0] == "--scale":
        argv = ["run", "sagiv2018", "--jobs", "1", "--no-progress", *AGENTS, *change, "--out", str(done)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert "rerun with the same settings to resume" in err[0] and "choose another --out" in err[0]
    assert snapshot(done) == before


def test_more_agents_and_seeds_extend_a_sweep_keeping_the_runs_it_holds(done, capsys):
    held = run_files(done)
    first = json.loads((done / "manifest.json").read_text())
    capsys.readouterr()
    extended = [*SMOKE, "--agents", "serial,ucb1,random", "--seeds", "2", "--out", str(done)]
    assert main(extended) == 0
    assert "8 runs done, 4 already complete, 0 failed" in capsys.readouterr().out  # 2 midpoints × 3 agents × 2 seeds
    after = snapshot(done)
    assert all(after[name] == data for name, data in held.items() if name.startswith("runs/"))  # untouched
    manifest = json.loads((done / "manifest.json").read_text())
    assert manifest["parts"][0] == list(first["runs"]) and len(manifest["parts"]) == 2
    assert len(manifest["parts"][1]) == 8 and manifest["created"] == first["created"]
    assert manifest["settings"]["agents"] == ["serial", "ucb1", "random"] and manifest["settings"]["seeds"] == 2
    assert "runs complete: 12 of 12" in (done / "report.md").read_text()
    assert main(extended) == 0  # the extended sweep resumes as itself
    assert "0 runs done, 12 already complete" in capsys.readouterr().out
    assert main([*SMOKE, *AGENTS, "--out", str(done)]) == 2  # going back would drop runs it now holds
    assert "would change or drop runs it holds" in capsys.readouterr().err


def test_the_same_command_resumes_and_keeps_the_manifest(done, capsys):
    manifest = json.loads((done / "manifest.json").read_text())
    capsys.readouterr()
    assert main([*SMOKE, *AGENTS, "--out", str(done)]) == 0
    assert "0 runs done, 4 already complete, 0 failed" in capsys.readouterr().out
    resumed = json.loads((done / "manifest.json").read_text())
    assert resumed["settings"] == manifest["settings"] and resumed["created"] == manifest["created"]


def test_report_and_check_leave_a_live_writers_temp_file_alone(done):
    """A live writer's temporary file survives report and check; a sweep removes only dead writers' ones."""
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = done / "runs" / f".x.parquet.abc123.{HOST}.{writer.pid}.tmp"
        live.write_bytes(b"half a file")
        foreign = done / "runs" / ".y.parquet.abc123.other-host.1.tmp"
        foreign.write_bytes(b"someone else's")
        assert temp_file_owner(live) == (HOST, writer.pid)
        assert main(["report", str(done)]) == 0
        store = ResultStore(done)
        store.check(store._manifest_specs())
        store.load()
        assert live.exists() and foreign.exists()
        assert main([*SMOKE, *AGENTS, "--out", str(done)]) == 0  # the sweep: the writer is alive
        assert live.exists() and foreign.exists()
    finally:
        writer.kill()
        writer.wait()
    assert main([*SMOKE, *AGENTS, "--out", str(done)]) == 0  # now its writer is dead: cleaned
    assert not live.exists() and foreign.exists()


def test_atomic_write_names_its_temp_file_after_the_writer(tmp_path, monkeypatch):
    seen = []
    real_replace = __import__("os").replace

    def spy(src, dst):
        seen.append(Path(src))
        real_replace(src, dst)

    monkeypatch.setattr("tradeoff_gym.benchmarks.store.os.replace", spy)
    atomic_write_bytes(tmp_path / "a.bin", b"data")
    assert (tmp_path / "a.bin").read_bytes() == b"data"
    assert temp_file_owner(seen[0]) == (HOST, __import__("os").getpid())


def test_a_second_sweep_into_a_locked_directory_is_refused(done, capsys):
    before = run_files(done)
    with open(done / ".lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.truncate(0)
        handle.write("4242\n")
        handle.flush()
        capsys.readouterr()
        assert main([*SMOKE, *AGENTS, "--out", str(done)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"another sweep (pid 4242) is writing into {done}" in err[0], err
        assert main(["report", str(done)]) == 2  # the sweep writes its report when it finishes; none meanwhile
        assert "a sweep (pid 4242) is writing into" in capsys.readouterr().err
    assert run_files(done) == before
    assert main([*SMOKE, *AGENTS, "--out", str(done)]) == 0  # lock released


def damage_one(done: Path, how: str) -> str:
    """Damage one run's files in the way ``how``; return its run id."""
    record_path = sorted((done / "runs").glob("*.json"))[1]
    data_path = record_path.with_suffix(".parquet")
    record = json.loads(record_path.read_text())
    if how == "truncated":
        data_path.write_bytes(data_path.read_bytes()[:100])
    elif how == "row count":
        record["rows"] += 1
        record_path.write_text(json.dumps(record))
    elif how == "unreadable":  # garbage whose hash the record matches: only reading the file shows it
        garbage = b"PAR1 not really parquet PAR1"
        data_path.write_bytes(garbage)
        record["sha256"] = hashlib.sha256(garbage).hexdigest()
        record_path.write_text(json.dumps(record))
    elif how == "record corrupt":
        record_path.write_text("{ torn")
    elif how == "record missing":
        record_path.unlink()
    return record["spec"]["run_id"]


DAMAGE = {
    "truncated": "does not match its recorded hash",
    "row count": "rows, its completion record says",
    "unreadable": "Parquet file unreadable",
    "record corrupt": "corrupt completion record",
    "record missing": "data without a completion record",
}


@pytest.mark.parametrize(("how", "why"), DAMAGE.items(), ids=DAMAGE.keys())
def test_report_lists_damaged_runs_and_leaves_them_as_found(done, how, why, capsys):
    run_id = damage_one(done, how)
    before = run_files(done)
    assert main(["report", str(done)]) == 0
    assert run_files(done) == before, "the report must not delete or modify anything"
    report = (done / "report.md").read_text()
    assert "## Damaged runs" in report and "runs complete: 3 of 4" in report
    line = next(line for line in report.splitlines() if f"`{run_id}`" in line)
    assert why in line
    assert run_id not in set(pd.read_parquet(done / "results.parquet").run_id)
    capsys.readouterr()
    assert main([*SMOKE, *AGENTS, "--out", str(done)]) == 0  # the sweep reruns it
    assert "1 runs done, 3 already complete" in capsys.readouterr().out
    assert "## Damaged runs" not in (done / "report.md").read_text()


def test_check_reads_only(done):
    damage_one(done, "truncated")
    store = ResultStore(done)
    before = snapshot(done)
    complete, problems = store.check(store._manifest_specs())
    assert len(complete) == 3 and len(problems) == 1
    assert snapshot(done) == before
