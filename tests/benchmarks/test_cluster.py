"""Scaling out: user modules reach Dask workers (shipped, or --pythonpath, checked on a worker), the Slurm job script,
and the ``device`` setting refused where CUDA is absent (docs/benchmarks/cluster.md).

One LocalCluster per module, its worker started before any test's module folder exists on this process's path, so
the worker sees a user's module only if the sweep ships it or ``--pythonpath`` names its folder.
"""

import os
import subprocess
import sys
import textwrap
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from tradeoff_gym.benchmarks import cluster
from tradeoff_gym.benchmarks.cli import main
from tradeoff_gym.envs import check_device

distributed = pytest.importorskip("dask.distributed")

SAGIV = ["run", "sagiv2018", "--scale", "smoke", "--no-progress"]  # 2 runs of the fast LearningCurves env
FIG5 = ["run", "fig5", "--scale", "smoke", "--seeds", "1", "--costs", "0", "--agents", "serial", "--set", "horizon=10",
        "--no-progress", "--jobs", "1"]
AGENT = """
from tradeoff_gym.agents.baselines import RandomAgent
{imports}

class {cls}(RandomAgent):
    name = "{label}"
{body}
"""


def write_agent(folder: Path, module: str, cls: str, *, imports: str = "", body: str = "") -> str:
    """A user's agent module ``folder/module.py`` (a RandomAgent); returns ``module:cls``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(AGENT.format(imports=imports, cls=cls, label=module, body=body))
    return f"{module}:{cls}"


@pytest.fixture(scope="module")
def client():
    """A client of a one-worker LocalCluster (its own process: the worker keeps the path it started with)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as local, distributed.Client(local) as connected:
        yield connected


@pytest.fixture(autouse=True)
def patient_scheduler_check(monkeypatch):
    """A scheduler check that tolerates a loaded machine (the CLI's 5 s are for a scheduler that is not there)."""
    from tradeoff_gym.benchmarks import cli

    monkeypatch.setattr(cli, "SCHEDULER_TIMEOUT_S", 60.0)


def worker_file(client, module: str) -> str | None:
    """Where the worker imported ``module`` from (None: it has not imported it)."""
    def where(name=module):
        return getattr(sys.modules.get(name), "__file__", None)

    return next(iter(client.run(where).values()))


def cluster_folder() -> str:
    """The folder under a worker's local directory that holds shipped modules."""
    from tradeoff_gym.benchmarks.cluster_worker import SHIPPED_FOLDER

    return SHIPPED_FOLDER


def refused(argv: list[str], capsys) -> str:
    """Run ``argv`` in this process; assert exit 2 with one line on stderr; return it."""
    status = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, (status, err)
    return lines[0]


# ------------------------------------------------------------------------------------------ shipping user modules
@pytest.mark.slow
def test_console_script_ships_the_working_directorys_agent_and_its_helper_to_the_worker(client, tmp_path):
    script = Path(sys.executable).parent / "tradeoff-bench"
    if not script.exists():
        pytest.skip("the console script is not installed in this environment")
    (tmp_path / "shiphelper.py").write_text("OFFSET = 0\n")  # imported by the agent's module: shipped with it
    agent = write_agent(tmp_path, "shipmod", "ShipAgent", imports="import shiphelper  # noqa: F401")
    result = subprocess.run(
        [str(script), *SAGIV, "--agents", agent, "--scheduler", client.scheduler.address, "--out", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "2 runs done, 0 already complete, 0 failed" in result.stdout
    for module in ("shipmod", "shiphelper"):  # the worker has them from the shipped folder, not from tmp_path
        assert f"{os.sep}{cluster_folder()}{os.sep}" in worker_file(client, module)


def test_a_module_whose_dependency_only_this_machine_has_is_refused_before_anything_is_written(
    client, tmp_path, monkeypatch, capsys
):
    site = tmp_path / "site"  # an "installed" distribution the worker lacks: not shipped, so the worker cannot import
    (site / "clientonly").mkdir(parents=True)
    (site / "clientonly" / "__init__.py").write_text("")
    (site / "clientonly-1.0.dist-info").mkdir()
    (site / "clientonly-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: clientonly\n"
                                                                 "Version: 1.0\n")
    (site / "clientonly-1.0.dist-info" / "top_level.txt").write_text("clientonly\n")
    monkeypatch.syspath_prepend(str(site))
    work = tmp_path / "work"
    agent = write_agent(work, "needsclientonly", "Agent", imports="import clientonly  # noqa: F401")
    monkeypatch.chdir(work)
    worker = next(iter(client.scheduler_info()["workers"]))
    line = refused([*SAGIV, "--agents", agent, "--scheduler", client.scheduler.address, "--out", "out"], capsys)
    assert f"module 'needsclientonly' cannot be loaded on Dask worker {worker}" in line
    assert "No module named 'clientonly'" in line and "--pythonpath DIR" in line
    assert not (work / "out").exists()


def test_pythonpath_is_checked_on_the_worker_then_makes_its_folder_importable_there(
    client, tmp_path, monkeypatch, capsys
):
    shared = tmp_path / "shared"  # a folder only the worker is told about: the agent imports from it while it plays
    shared.mkdir()
    (shared / "lazyhelper.py").write_text("def pick(strategies):\n    return strategies - 1\n")
    work = tmp_path / "work"
    agent = write_agent(work, "lazymod", "LazyAgent", body=textwrap.indent(textwrap.dedent("""
        def act(self, obs, info):
            import lazyhelper  # at run time only: this machine never imports it, so it is not shipped

            return super().act(obs, info)
    """), "    "))
    monkeypatch.chdir(work)
    worker = next(iter(client.scheduler_info()["workers"]))
    missing = str(tmp_path / "missing")
    line = refused([*SAGIV, "--agents", agent, "--scheduler", client.scheduler.address, "--pythonpath", missing,
                    "--out", "out"], capsys)
    assert line.endswith(f"--pythonpath {missing} is not a folder on Dask worker {worker}; give folders as the "
                         "workers see them (e.g. on a shared filesystem)")
    assert not (work / "out").exists()
    assert main([*SAGIV, "--agents", agent, "--scheduler", client.scheduler.address, "--pythonpath", str(shared),
                 "--out", "out"]) == 0
    assert "2 runs done, 0 already complete, 0 failed" in capsys.readouterr().out
    assert worker_file(client, "lazyhelper") == str(shared / "lazyhelper.py")


def test_a_scheduler_without_workers_is_refused_after_the_wait(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cluster, "WORKER_WAIT_S", 0.5)
    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=":0") as empty:
        line = refused([*SAGIV, "--agents", "serial", "--scheduler", empty.scheduler_address, "--out",
                        str(tmp_path / "o")], capsys)
    assert line.endswith(f"no Dask worker joined the scheduler at {empty.scheduler_address} within 0.5 s; start "
                         f"workers (dask worker {empty.scheduler_address}), or drop --scheduler to run locally")
    assert not (tmp_path / "o").exists()


def test_pythonpath_without_dask_is_refused(tmp_path, capsys):
    line = refused([*SAGIV, "--agents", "serial", "--pythonpath", str(tmp_path), "--out", str(tmp_path / "o")], capsys)
    assert "--pythonpath applies to Dask workers (--scheduler or --cluster)" in line


def test_a_package_is_shipped_whole_and_installed_modules_are_not(tmp_path, monkeypatch):
    package = tmp_path / "shippkg"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "policies.py").write_text("from shippkg import data  # noqa: F401\n")
    (package / "data.py").write_text("")
    (package / "table.json").write_text("{}")
    (package / "__pycache__" / "policies.cpython-311.pyc").write_bytes(b"stale")
    monkeypatch.syspath_prepend(str(tmp_path))
    shipped = cluster.modules_to_ship(["shippkg.policies", "json", "numpy", "tradeoff_gym.agents"])
    assert shipped == {"shippkg": package.resolve()}
    payload = cluster.pack_modules(shipped)
    names = zipfile.ZipFile(BytesIO(payload)).namelist()
    assert sorted(names) == ["shippkg/__init__.py", "shippkg/data.py", "shippkg/policies.py", "shippkg/table.json"]
    assert cluster.pack_modules(shipped) == payload  # same content, same bytes: the worker unpacks it once


def test_needed_names_are_user_agents_modules_and_module_prefixed_env_ids():
    from tradeoff_gym.benchmarks.experiment import RunSpec

    specs = [RunSpec("a/0", "mymod.envs:My-v0", "serial", 0), RunSpec("a/1", "tradeoff/SerialParallel-v0",
                                                                      "mypkg.agents:Mine", 0)]
    agents, modules, env_ids = cluster.needed_names(specs, ["mystudy"])
    assert agents == ["mypkg.agents:Mine", "serial"]
    assert modules == ["mymod.envs", "mypkg.agents", "mystudy"]
    assert env_ids == ["mymod.envs:My-v0", "tradeoff/SerialParallel-v0"]


# --------------------------------------------------------------------------------------------------------- Slurm
def test_slurm_dry_run_prints_the_job_script_with_the_options_and_this_python(tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask_jobqueue")
    monkeypatch.chdir(tmp_path)
    agent = write_agent(tmp_path, "slurmmod", "SlurmAgent")
    options = ["cores=4", "memory=16GB", "walltime=01:30:00", "queue=gpu", 'job_extra_directives=["--gres=gpu:1"]']
    argv = [*SAGIV, "--agents", agent, "--cluster", "slurm", "--cluster-dry-run", "--out", "out"]
    assert main([*argv, *(x for option in options for x in ("--cluster-option", option))]) == 0
    script = capsys.readouterr().out
    for line in ("#SBATCH -p gpu", "#SBATCH --cpus-per-task=4", "#SBATCH --mem=15G", "#SBATCH -t 01:30:00",
                 "#SBATCH --gres=gpu:1"):
        assert line in script.splitlines(), script
    assert f"{sys.executable} -m distributed.cli.dask_worker tcp://" in script
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--cluster", "slurm", "--cluster-option", "cores=4", "--cluster-option", "partition=gpu"],
         "--cluster-option 'partition' is not a SLURMCluster setting; allowed: account, cores,"),
        (["--cluster", "slurm", "--cluster-option", "cores=4", "--cluster-option", "job_extra_directives=--gres"],
         "--cluster-option job_extra_directives takes a JSON list of strings"),
        (["--cluster", "slurm", "--cluster-option", "cores=4", "--cluster-option", "cores=8"],
         "--cluster-option cores is given more than once"),
        (["--cluster", "slurm", "--cluster-option", "walltime=01:00:00", "--cluster-dry-run"],
         "--cluster slurm cannot start with these --cluster-option settings"),
        (["--cluster", "slurm", "--cluster-jobs", "0"], "--cluster-jobs must be an integer >= 1, got 0"),
        (["--cluster", "slurm", "--scheduler", "tcp://127.0.0.1:9"], "--cluster slurm and --scheduler conflict"),
        (["--cluster-option", "cores=4"], "--cluster-option needs --cluster slurm"),
        (["--cluster-dry-run"], "--cluster-dry-run needs --cluster slurm"),
    ],
    ids=["unknown-key", "list-as-string", "repeated", "no-cores", "no-jobs", "with-scheduler", "option-alone",
         "dry-run-alone"],
)
def test_bad_cluster_options_are_usage_errors_before_anything_is_written(options, message, tmp_path, capsys):
    pytest.importorskip("dask_jobqueue")
    line = refused([*SAGIV, "--agents", "serial", *options, "--out", str(tmp_path / "o")], capsys)
    assert message in line
    assert not (tmp_path / "o").exists()


def test_slurm_without_sbatch_is_refused_before_anything_is_submitted_or_written(tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask_jobqueue")
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    line = refused([*SAGIV, "--agents", "serial", "--cluster", "slurm", "--cluster-option", "cores=1",
                    "--cluster-option", "memory=1GB", "--out", str(tmp_path / "o")], capsys)
    assert "--cluster slurm submits jobs with sbatch, which is not on PATH here" in line
    assert not (tmp_path / "o").exists()


def test_slurm_without_dask_jobqueue_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import fails as if not installed
    monkeypatch.setitem(sys.modules, "dask_jobqueue.core", None)
    line = refused([*SAGIV, "--agents", "serial", "--cluster", "slurm", "--out", str(tmp_path / "o")], capsys)
    assert line.endswith("--cluster slurm needs dask-jobqueue, which is not installed: "
                         "pip install 'tradeoff-gym[cluster]'")


# -------------------------------------------------------------------------------------------------------- device
def test_cuda_device_is_refused_where_cuda_is_absent_and_cpu_runs(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    line = refused([*FIG5, "--env", "device=cuda", "--out", str(tmp_path / "gpu")], capsys)
    assert line.endswith("--env device=cuda (tradeoff/SerialParallel-v0): device 'cuda' names CUDA, which is not "
                         "available on this machine (torch sees no CUDA GPU); use 'cpu' there, or run on a machine "
                         "with a CUDA GPU")
    assert not (tmp_path / "gpu").exists()
    assert main([*FIG5, "--env", "device=cpu", "--out", str(tmp_path / "cpu")]) == 0
    assert "0 failed" in capsys.readouterr().out


def test_a_cuda_device_on_dask_is_checked_on_a_worker_not_here(client, tmp_path, monkeypatch, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    worker = next(iter(client.scheduler_info()["workers"]))
    line = refused([*FIG5, "--env", "device=cuda:0", "--scheduler", client.scheduler.address, "--out",
                    str(tmp_path / "o")], capsys)
    assert line.endswith(f"device 'cuda:0' names CUDA, which is not available on Dask worker {worker} (torch sees no "
                         "CUDA GPU); use 'cpu' there, or run on a machine with a CUDA GPU")
    line = refused([*FIG5, "--env", "device=gpu", "--scheduler", client.scheduler.address, "--out",
                    str(tmp_path / "o")], capsys)
    assert "device must be 'cpu', 'cuda', 'cuda:N' (GPU N) or 'mps', got 'gpu'" in line
    assert not (tmp_path / "o").exists()


def test_check_device_refuses_a_gpu_index_beyond_the_machines_and_unknown_devices(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert check_device("cuda") == "cuda" and check_device("cuda:1") == "cuda:1" and check_device("cpu") == "cpu"
    with pytest.raises(ValueError, match=r"device 'cuda:2' names CUDA GPU 2, but this machine has 2; use 'cpu', "
                                         r"'cuda' or 'cuda:0' … 'cuda:1' there"):
        check_device("cuda:2")
    for bad in ("tpu", "cpu:1", 0, None, "cuda:x"):
        with pytest.raises(ValueError, match=r"device must be 'cpu', 'cuda', 'cuda:N' \(GPU N\) or 'mps', got"):
            check_device(bad)
    assert check_device("cuda:7", here=False) == "cuda:7"  # spelling only: a worker checks the GPU
