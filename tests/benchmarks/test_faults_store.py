"""Faults around the results directory: never a wrong table that looks right; a fault is one line and a resumable
directory (overlapping reports, foreign folders, damaged runs, disk full, unwritable --out, read-only directories,
malformed manifests, file modes, progress folders, Ctrl-C)."""

import contextlib
import errno
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import tradeoff_gym.benchmarks.report as report_module
import tradeoff_gym.benchmarks.store as store_module
from tradeoff_gym.benchmarks import cli, runner
from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.experiment import RunSpec
from tradeoff_gym.benchmarks.store import HOST, ResultStore, StoreError, atomic_write_bytes

# sagiv2018 at smoke scale: 2 midpoints × 1 cost × agents × 1 seed of the fast LearningCurves env.
SMOKE = ["run", "sagiv2018", "--scale", "smoke", "--jobs", "1", "--no-progress"]
AGENTS = ["--agents", "serial,ucb1"]  # 4 runs
CLI = [sys.executable, "-m", "tradeoff_gym.benchmarks.cli"]
INTERRUPTED = "interrupted; completed runs are kept — resume with the same command"


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones included) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def refused(argv: list[str], capsys) -> str:
    """Run ``argv``; assert exit 2 with exactly one line on stderr; return that line."""
    capsys.readouterr()
    assert main(argv) == 2
    return one_line(capsys.readouterr().err)


def consistent(root: Path) -> None:
    """report.md, results.parquet and runs.csv all tell what the run files on disk hold."""
    store = ResultStore(root)
    specs = store._manifest_specs()
    complete, _ = store.inspect(specs)
    report = (root / "report.md").read_text()
    assert f"runs complete: {len(complete)} of {len(specs)}" in report, report.splitlines()[:4]
    if complete:
        assert set(pd.read_parquet(root / "results.parquet").run_id) == complete
        assert set(pd.read_csv(root / "runs.csv").run_id) == complete
    else:
        assert not (root / "results.parquet").exists() and not (root / "runs.csv").exists()


@pytest.fixture()
def done(tmp_path) -> Path:
    """A finished 4-run sweep."""
    out = tmp_path / "done"
    assert main([*SMOKE, *AGENTS, "--out", str(out)]) == 0
    return out


@contextlib.contextmanager
def read_only(root: Path, monkeypatch):
    """Creating anything under ``root`` fails as on a read-only filesystem (EROFS)."""
    root = os.path.abspath(root)

    def under(path) -> bool:
        return os.path.abspath(os.fsdecode(path)).startswith(root)

    real_open, real_mkdir = os.open, os.mkdir

    def fake_open(path, flags, *args, **kwargs):
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if under(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "open", fake_open)
        patch.setattr(os, "mkdir", fake_mkdir)
        yield


# -- a report never replaces newer results with older ------------------------------------------------------------
def test_a_report_that_overlaps_the_end_of_a_sweep_never_leaves_older_results(done, monkeypatch, capsys):
    """The report has read the 4-run directory; before it writes, a sweep extends it to 6 runs and finishes."""
    real = report_module.atomic_write_bytes
    sweep: list[int] = []

    def write_after_a_sweep(path, data):
        if not sweep:  # once: the sweep's own report writes through here too
            sweep.append(-1)
            sweep[0] = main([*SMOKE, "--agents", "serial,ucb1,random", "--out", str(done)])
        real(path, data)

    monkeypatch.setattr(report_module, "atomic_write_bytes", write_after_a_sweep)
    status = main(["report", str(done)])
    monkeypatch.undo()
    assert sweep[0] in (0, 2) and status == 0  # the sweep waits its turn (refused while the report writes)
    consistent(done)  # the old code: report.md said 4 of 6 and results.parquet held 4 runs, all 6 being done


def test_a_sweep_writes_its_report_under_its_lock(tmp_path, monkeypatch):
    real = report_module.atomic_write_bytes
    seen = []

    def spy(path, data):
        if Path(path).name == "report.md":
            try:
                ResultStore(Path(path).parent).check_not_locked()
                seen.append("unlocked")
            except StoreError:
                seen.append("locked")
        real(path, data)

    monkeypatch.setattr(report_module, "atomic_write_bytes", spy)
    assert main([*SMOKE, *AGENTS, "--out", str(tmp_path / "out")]) == 0
    assert seen == ["locked"]


def test_report_while_a_sweep_holds_the_lock_writes_nothing_and_says_so(done, capsys):
    import fcntl

    (done / "report.md").unlink()
    with open(done / ".lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.truncate(0)
        handle.write("4242\n")
        handle.flush()
        before = snapshot(done)
        line = refused(["report", str(done)], capsys)
    assert "a sweep (pid 4242) is writing into" in line and "writes report.md when it finishes" in line
    assert snapshot(done) == before


# -- --out checks: before any side effect ----------------------------------------------------------------------
def test_out_naming_a_folder_that_is_not_a_results_directory_is_refused(tmp_path, capsys):
    own = tmp_path / "own"
    (own / "figures").mkdir(parents=True)
    (own / "report.md").write_text("my own report")
    (own / "runs.csv").write_text("my,own\n1,2\n")
    (own / "figures" / "mine.png").write_bytes(b"png")
    before = snapshot(own)
    line = refused([*SMOKE, *AGENTS, "--out", str(own)], capsys)
    assert str(own) in line and "not a results directory" in line and "no manifest.json" in line
    assert snapshot(own) == before and sorted(p.name for p in own.iterdir()) == ["figures", "report.md", "runs.csv"]


def test_out_naming_an_empty_folder_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    assert main([*SMOKE, "--agents", "serial", "--out", str(tmp_path / "empty")]) == 0
    assert (tmp_path / "empty" / "manifest.json").is_file()


def test_out_empty_is_refused_not_the_default_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = refused([*SMOKE, "--agents", "serial", "--out", ""], capsys)
    assert "--out" in line
    assert list(tmp_path.iterdir()) == []


def unwritable_outs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    return {"loop": tmp_path / "loop1", "under a loop": tmp_path / "loop1" / "sub",
            "dangling symlink": tmp_path / "dangling", "proc": Path("/proc/self/x")}


@pytest.mark.parametrize("which", ["loop", "under a loop", "dangling symlink", "proc"])
def test_out_that_cannot_be_created_is_a_usage_error(which, tmp_path, capsys):
    out = unwritable_outs(tmp_path)[which]
    before = sorted(p.name for p in tmp_path.iterdir())
    line = refused([*SMOKE, "--agents", "serial", "--out", str(out)], capsys)
    assert str(out) in line and "choose another --out" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not (tmp_path / "nowhere").exists()


def test_out_on_a_read_only_filesystem_is_a_usage_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "ro").mkdir()
    with read_only(tmp_path / "ro", monkeypatch):
        line = refused([*SMOKE, "--agents", "serial", "--out", str(tmp_path / "ro" / "out")], capsys)
    assert "Read-only file system" in line and "choose another --out" in line
    assert list((tmp_path / "ro").iterdir()) == []


# -- derived files always match the report ------------------------------------------------------------------------
def test_when_every_run_is_damaged_no_stale_derived_files_remain(done):
    for path in (done / "runs").glob("*.parquet"):
        path.write_bytes(path.read_bytes()[:100])
    assert main(["report", str(done)]) == 0
    assert "runs complete: 0 of 4" in (done / "report.md").read_text()
    consistent(done)
    assert not (done / "figures").exists()


def test_figures_the_report_no_longer_draws_are_removed(done):
    (done / "figures" / "from_an_older_report.png").write_bytes(b"png")
    assert main(["report", str(done)]) == 0
    report = (done / "report.md").read_text()
    figures = sorted(p.name for p in (done / "figures").iterdir())
    assert figures and all(f"figures/{name}" in report for name in figures)
    assert not [p for p in done.iterdir() if p.name.startswith(".") and p.name != ".lock"]  # no staging left


def test_a_report_removes_the_figure_folders_of_a_killed_report(done):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for name in (f".figures.abc.{HOST}.{dead.pid}.tmp", f".figures.old1234.{HOST}.{dead.pid}.tmp"):
        (done / name).mkdir()
        (done / name / "x.png").write_bytes(b"png")
    assert main(["report", str(done)]) == 0
    assert not [p for p in done.iterdir() if p.name.startswith(".") and p.name != ".lock"]


# -- disk full ---------------------------------------------------------------------------------------------------
def test_disk_full_is_one_line_and_the_same_command_resumes_exactly(tmp_path, monkeypatch, capsys):
    out, clean = tmp_path / "full", tmp_path / "clean"
    real = store_module.atomic_write_bytes
    written: list[Path] = []

    def full_after_two_runs(path, data):
        if Path(path).parent.name == "runs" and Path(path).suffix == ".parquet":
            if len(written) == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            written.append(Path(path))
        real(path, data)

    monkeypatch.setattr(store_module, "atomic_write_bytes", full_after_two_runs)
    capsys.readouterr()
    assert main([*SMOKE, *AGENTS, "--out", str(out)]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(out) in line and "no space left" in line.lower() and "rerun the same command" in line
    monkeypatch.undo()
    assert main([*SMOKE, *AGENTS, "--out", str(out)]) == 0
    assert "2 runs done, 2 already complete, 0 failed" in capsys.readouterr().out
    assert main([*SMOKE, *AGENTS, "--out", str(clean)]) == 0

    def table(root: Path) -> pd.DataFrame:
        return pd.read_parquet(root / "results.parquet").sort_values(["run_id", "trial"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(out), table(clean))


def test_disk_full_while_writing_a_report_is_one_line(done, monkeypatch, capsys):
    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(report_module, "atomic_write_bytes", full)
    capsys.readouterr()
    assert main(["report", str(done)]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(done) in line and "no space left" in line.lower()


# -- read-only results directory: report prints, writes nothing ----------------------------------------------------
def test_report_on_a_read_only_directory_prints_it_and_changes_nothing(done, monkeypatch, capsys):
    before = snapshot(done)
    capsys.readouterr()
    with read_only(done, monkeypatch):
        assert main(["report", str(done)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("# sagiv2018") and "runs complete: 4 of 4" in out and "## Scoreboard" in out
    line = one_line(err)
    assert str(done) in line and "read-only" in line and "nothing was written" in line
    assert snapshot(done) == before


# -- malformed manifests ---------------------------------------------------------------------------------------
MANIFESTS = {
    "empty object": ("{}", "'experiment'"),
    "runs null": ('{"runs": null}', "'experiment'"),
    "a list": ("[1, 2]", "not a JSON object"),
    "runs null, experiment named": ('{"experiment": "sagiv2018", "runs": null}', "'runs'"),
    "runs a list": ('{"experiment": "sagiv2018", "runs": [1]}', "'runs'"),
    "a run not a spec": ('{"experiment": "sagiv2018", "runs": {"a": 1}}', "run 'a'"),
    "a spec missing fields": ('{"experiment": "sagiv2018", "runs": {"a": {"run_id": "a"}}}', "run 'a'"),
    "settings a list": ('{"experiment": "sagiv2018", "runs": {}, "settings": [1]}', "'settings'"),
    "parts not lists": ('{"experiment": "sagiv2018", "runs": {}, "parts": [1]}', "'parts'"),
}


@pytest.mark.parametrize(("text", "what"), MANIFESTS.values(), ids=MANIFESTS.keys())
@pytest.mark.parametrize("command", ["report", "run"])
def test_a_manifest_of_the_wrong_shape_is_one_line_naming_the_file(text, what, command, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(text)
    argv = ["report", str(out)] if command == "report" else [*SMOKE, *AGENTS, "--out", str(out)]
    line = refused(argv, capsys)
    assert str(out / "manifest.json") in line and what in line
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


# -- modes, temporary folders, Ctrl-C ----------------------------------------------------------------------------
@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_atomic_writes_end_with_the_mode_the_umask_gives(mask, tmp_path):
    with umask(mask):
        atomic_write_bytes(tmp_path / "a.bin", b"data")
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o666 & ~mask


def test_a_results_directory_is_readable_by_others_under_a_022_umask(tmp_path):
    out = tmp_path / "out"
    with umask(0o022):
        assert main([*SMOKE, *AGENTS, "--out", str(out)]) == 0
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert (out / "figures").is_dir() and (out / "results.parquet").is_file()
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o755 if (out / name).is_dir() or name == "." else 0o644)}
    assert not wrong


class _Bar:
    def show_trials(self, played: int) -> None:
        pass


def test_progress_folders_of_dead_sweeps_are_removed_on_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = tmp_path / f".tradeoff-progress.abc.{HOST}.{dead.pid}.tmp"
        live = tmp_path / f".tradeoff-progress.def.{HOST}.{alive.pid}.tmp"
        foreign = tmp_path / f".tradeoff-progress.ghi.other-host.{dead.pid}.tmp"
        for folder in (stale, live, foreign):
            folder.mkdir()
            (folder / "0").write_text("12")
        spec = RunSpec("x/0", "tradeoff/LearningCurves-v0", "serial", 0, env_kwargs={"horizon": 5})
        unit = runner.WorkUnit(spec, (spec,))
        with runner._ProgressReader(_Bar(), [(unit, unit)]) as reader:
            own = Path(reader.directory)
            assert own.is_dir() and own.name.endswith(f".{HOST}.{os.getpid()}.tmp")
        assert not own.exists() and not stale.exists() and live.exists() and foreign.exists()
    finally:
        alive.kill()
        alive.wait()


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_sweep", interrupted)
    capsys.readouterr()
    assert main([*SMOKE, *AGENTS, "--out", str(tmp_path / "out")]) == 130
    assert one_line(capsys.readouterr().err).endswith(INTERRUPTED)


@pytest.mark.slow
def test_ctrl_c_during_a_sweep_keeps_completed_runs_and_the_same_command_resumes(tmp_path):
    out = tmp_path / "out"
    argv = [*CLI, *SMOKE, "--out", str(out)]  # 16 runs
    sweep = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("*.json")) and time.monotonic() < deadline and sweep.poll() is None:
        time.sleep(0.05)
    sweep.send_signal(signal.SIGINT)
    stdout, stderr = sweep.communicate(timeout=120)
    if sweep.returncode == 0:
        pytest.skip("the sweep finished before the interrupt arrived")
    assert sweep.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].endswith(INTERRUPTED)
    kept = len(list((out / "runs").glob("*.json")))
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{16 - kept} runs done, {kept} already complete, 0 failed" in again.stdout
