"""Provenance: the manifest records commit, versions, host and CPU per session; it never splits a sweep."""

import json
import platform
import subprocess
from pathlib import Path

import pytest

from tradeoff_gym.benchmarks import provenance
from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.benchmarks.store import ResultStore

# sagiv2018 at smoke scale with two agents: 4 runs of the fast LearningCurves env.
SMOKE = ["run", "sagiv2018", "--scale", "smoke", "--jobs", "1", "--no-progress", "--agents", "serial,ucb1"]
FIELDS = {"commit", "dirty", "python", "versions", "host", "cpu", "platform"}


def test_collect_records_commit_versions_host_and_cpu():
    record = provenance.collect()
    assert FIELDS <= set(record)
    assert record["python"] == platform.python_version()
    assert set(record["versions"]) == {"tradeoff-gym", "torch", "gymnasium", "numpy", "pandas"}
    assert record["versions"]["torch"] and record["versions"]["numpy"] and record["versions"]["tradeoff-gym"]
    assert record["host"] and record["cpu"]
    root = provenance.source_root()
    top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode == 0 and Path(top.stdout.strip()).resolve() == root.resolve():  # an editable checkout
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
        assert record["commit"] == head.stdout.strip() and isinstance(record["dirty"], bool)


def test_outside_a_git_checkout_the_commit_is_none_not_an_error(tmp_path, monkeypatch):
    assert provenance.git_state(tmp_path) == {"commit": None, "dirty": None}
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert provenance.git_state() == {"commit": None, "dirty": None}
    assert provenance.collect()["commit"] is None


def test_a_folder_inside_another_checkout_is_not_taken_for_the_package_source(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    inner = tmp_path / "site-packages"
    inner.mkdir()
    assert provenance.git_state(inner) == {"commit": None, "dirty": None}


def test_cpu_model_falls_back_without_proc_cpuinfo(monkeypatch):
    def no_file(*args, **kwargs):
        raise OSError("no /proc")

    monkeypatch.setattr("builtins.open", no_file)
    monkeypatch.setattr(platform, "processor", lambda: "")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    assert provenance.cpu_model() == "x86_64"


@pytest.fixture()
def swept(tmp_path) -> Path:
    out = tmp_path / "out"
    assert main([*SMOKE, "--out", str(out)]) == 0
    return out


def test_the_manifest_holds_the_sessions_provenance_and_the_report_shows_it(swept):
    manifest = json.loads((swept / "manifest.json").read_text())
    assert len(manifest["sessions"]) == 1 and manifest["provenance"] == manifest["sessions"][0]
    session = manifest["sessions"][0]
    assert FIELDS | {"session", "started"} <= set(session)
    assert session["versions"]["gymnasium"] and session["host"] == provenance.host_name()
    records = [json.loads(p.read_text()) for p in (swept / "runs").glob("*.json")]
    assert len(records) == 4 and all(r["session"] == 0 for r in records)
    report = (swept / "report.md").read_text()
    assert "## Provenance" in report
    assert f"host `{session['host']}`" in report and f"torch {session['versions']['torch']}" in report
    if session["commit"]:
        assert session["commit"][:12] in report


def test_resuming_with_other_provenance_resumes_and_adds_a_session(swept, monkeypatch, capsys):
    runs_before = {p.name: p.read_bytes() for p in (swept / "runs").iterdir()}
    other = {**provenance.collect(), "commit": "0" * 40, "dirty": True, "host": "elsewhere", "cpu": "Other CPU",
             "versions": {name: "9.9" for name in provenance.VERSIONED}}
    monkeypatch.setattr("tradeoff_gym.benchmarks.store.collect_provenance", lambda: other)
    capsys.readouterr()
    assert main([*SMOKE, "--out", str(swept)]) == 0
    assert "0 runs done, 4 already complete" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (swept / "runs").iterdir()} == runs_before
    manifest = ResultStore(swept).manifest()
    assert [s["session"] for s in manifest["sessions"]] == [0, 1]
    assert manifest["provenance"]["host"] == "elsewhere" and manifest["sessions"][0]["host"] != "elsewhere"
    report = (swept / "report.md").read_text()
    assert "host `elsewhere`, CPU Other CPU" in report and "commit `000000000000` (uncommitted changes)" in report
    # and a third call extending the sweep by an agent is still accepted
    assert main([*SMOKE[:-1], "serial,ucb1,random", "--out", str(swept)]) == 0
    assert len(ResultStore(swept).manifest()["sessions"]) == 3


def test_a_manifest_without_sessions_still_reports():
    from tradeoff_gym.benchmarks.report import provenance_lines

    assert "Not recorded" in " ".join(provenance_lines({"runs": {}}))
