"""The trade-off the whole benchmark rests on, at test scale: serial training shares representations,
so the serially trained network fails when its tasks must run in parallel; parallel training does not."""

import numpy as np
import pytest

from tradeoff_gym.learners.batched import TaskLearner
from tradeoff_gym.learners.tasks import PARALLEL_SCHEDULE, SERIAL_SCHEDULE
from tradeoff_gym.learners.trial import LearnerConfig


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_serial_training_makes_parallel_execution_fail(seed):
    errors = {}
    for name, schedule in (("serial", SERIAL_SCHEDULE), ("parallel", PARALLEL_SCHEDULE)):
        learner = TaskLearner(LearnerConfig(), seed)
        accuracy = np.mean([learner.trial(schedule) for _ in range(400)][-50:])
        assert accuracy > 0.45, f"{name} training must learn well above chance (0.1–0.2), got {accuracy:.2f}"
        errors[name] = learner.probe(256).parallel_error.mean()
    # Measured at 400 trials over seeds 0–2: 0.75–0.83 after serial training vs 0.34–0.44 after parallel.
    assert errors["serial"] - errors["parallel"] >= 0.2, errors
