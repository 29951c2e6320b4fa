"""The ``Examples:`` in the public env and agent docstrings run and show what they claim (doctest)."""

import doctest
import importlib

import pytest

#: Modules whose docstrings hold ``>>>`` examples, by their import names.
MODULES = (
    "tradeoff_gym.envs.learning_curves",
    "tradeoff_gym.envs.serial_parallel",
    "tradeoff_gym.envs.serial_parallel_vector",
    "tradeoff_gym.envs.multitask",
    "tradeoff_gym.envs.sequential",
    "tradeoff_gym.agents.baselines",
    "tradeoff_gym.agents.bandits",
    "tradeoff_gym.agents.meta_learner",
    "tradeoff_gym.agents.navigator",
    "tradeoff_gym.agents.rising",
    "tradeoff_gym.agents.sagiv",
)
#: Classes (or factories) that must carry an example.
DOCUMENTED = {
    "tradeoff_gym.envs.learning_curves": ["LearningCurvesEnv"],
    "tradeoff_gym.envs.serial_parallel": ["SerialParallelEnv"],
    "tradeoff_gym.envs.serial_parallel_vector": ["SerialParallelVectorEnv"],
    "tradeoff_gym.envs.multitask": ["make_multitask"],
    "tradeoff_gym.envs.sequential": ["SequentialTasksEnv"],
    "tradeoff_gym.agents.baselines": ["FixedAgent", "TwoPhaseAgent", "RandomAgent", "MixedAgent", "OracleAgent"],
    "tradeoff_gym.agents.bandits": [
        "UCB1Agent", "EpsilonGreedyAgent", "SlidingWindowUCBAgent", "GaussianThompsonAgent",
    ],
    "tradeoff_gym.agents.meta_learner": ["MetaLearnerAgent"],
    "tradeoff_gym.agents.navigator": ["NavigatorAgent"],
    "tradeoff_gym.agents.rising": ["RisingUCBAgent", "CumulativeRisingUCBAgent"],
    "tradeoff_gym.agents.sagiv": ["SagivAgent"],
}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS, verbose=False)
    assert result.attempted, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see stdout)"


@pytest.mark.parametrize("name", MODULES)
def test_public_envs_and_agents_have_an_examples_section(name):
    module = importlib.import_module(name)
    for attribute in DOCUMENTED[name]:
        doc = getattr(module, attribute).__doc__ or ""
        assert "\n    Examples:\n" in doc and ">>>" in doc.split("Examples:")[-1], f"{name}.{attribute}"
