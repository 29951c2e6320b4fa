"""Speed and one-off report scripts — scripts, not the library.

Nothing in the library (experiments, run loop, runner, store, report, CLI) imports these; they use the
library and print figures or write a one-off report. Speed targets live here, not in the tests. Run each
from the repository root as ``python -m tradeoff_gym.benchmarks.scripts.<name>``:

* ``python -m tradeoff_gym.benchmarks.scripts.bench_learning_curves [--trials 5000] [--repeats 5]`` — LearningCurves
  steps per second, bare env and through the run loop with each agent (target ≥ 50,000 env steps/s).
* ``python -m tradeoff_gym.benchmarks.scripts.bench_serial_parallel_speed [--trials 200]`` — ms per serial and per
  parallel SerialParallel trial, and the ratio to the same network trained in raw PyTorch.
* ``python -m tradeoff_gym.benchmarks.scripts.bench_tradeoff [--trials 5000] [--seeds 5]`` — evidence of the trade-off
in
  SerialParallel: trials to 90 %, parallel-execution error after each regimen, the crossover cost c*.
* ``python -m tradeoff_gym.benchmarks.scripts.bench_meta_learner [--threads 1] [--sp-trials 100]`` — meta-learner and
  Sagiv agent time per decision and per refit, overhead on a SerialParallel trial, our SVGD vs Pyro's.
* ``python -m tradeoff_gym.benchmarks.scripts.bench_sb3 --out results/sb3 [--policy PATH]`` — an SB3 policy vs the
  meta-learner (or classic bandits) vs the oracle on LearningCurves; writes a report, figure and table.
* ``python -m tradeoff_gym.benchmarks.scripts.bench_suite RESULTS_DIR [--scale paper] [--jobs 2]`` — a finished sweep's
  measured per-trial costs projected to another scale's wall time.

The experiments themselves run through the CLI (``tradeoff-bench run <experiment>``), not from here.
"""
