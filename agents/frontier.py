"""The cost-blind frontier's policies as agents: explore-then-commit (LearningCurves) and probe-then-commit
(SerialParallel), plus the rule each world family's train split chose.

Each class is an explicit, documented family of cost-blind policies — they read rewards (already discounted by
the hidden cost) and the reset info, never the cost — whose best member, chosen on a family's train worlds and
seeds, is a reference beside the best fixed strategy. The frontier scripts replay these rules offline
(``benchmarks/scripts/lc_frontier.py``, ``benchmarks/scripts/sp_frontier.py``); the agents play them through the
run loop, and the tests check that both agree. :func:`frontier_agent` gives the chosen rule of a family as an
agent spec, read from the shipped ``envs/data/frontier.json``. Why and what the frontier is:
docs/findings/frontier.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tradeoff_gym.agents.base import BaseAgent, check_reward
from tradeoff_gym.envs.families import DATA_DIR
from tradeoff_gym.envs.interface import SERIAL_FLAGS, STRATEGIES
from tradeoff_gym.learners.checks import check_int, check_number

#: The commit statistics: ``mean`` over all M observed rewards of a strategy, ``recent`` over its last ceil(M/4).
STATISTICS = ("mean", "recent")
#: The shipped record of each family's chosen frontier rule (written by the frontier scripts' ``--record``).
FRONTIER_FILE = DATA_DIR / "frontier.json"
#: Keys every family's record in :data:`FRONTIER_FILE` holds.
RECORD_KEYS = ("agent", "rule", "train_score", "train", "command")


@dataclass(frozen=True)
class ETCRule:
    """Explore-then-commit: ``explore`` picks of each strategy round robin, then the best by ``statistic``.

    ``explore`` ≥ 1 picks per strategy; ``statistic`` ``"mean"`` (all of them) or ``"recent"`` (the last
    ``ceil(explore/4)``). Why a class of rules: a documented, cost-blind reference (docs/findings/frontier.md).
    """

    explore: int
    statistic: str = "mean"

    def __post_init__(self) -> None:
        if isinstance(self.explore, bool) or not isinstance(self.explore, (int, np.integer)) or self.explore < 1:
            raise ValueError(f"explore must be an integer >= 1 (picks per strategy), got {self.explore!r}")
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {STATISTICS}, got {self.statistic!r}")
        object.__setattr__(self, "explore", int(self.explore))

    @property
    def window(self) -> int:
        """How many of a strategy's last observed exploration rewards the commit compares."""
        return self.explore if self.statistic == "mean" else math.ceil(self.explore / 4)

    @property
    def name(self) -> str:
        """``etc-M`` or ``etc-M-recent``: the rule's identity in results."""
        return f"etc-{self.explore}" + ("" if self.statistic == "mean" else f"-{self.statistic}")

    @property
    def agent_spec(self) -> str:
        """The agent spec that plays this rule: ``etc{"explore": M, "statistic": "mean"}``."""
        return "etc" + json.dumps({"explore": self.explore, "statistic": self.statistic})

    @classmethod
    def parse(cls, name: str) -> ETCRule:
        """The rule named ``etc-M`` or ``etc-M-recent``; a ValueError naming the forms otherwise."""
        parts = str(name).strip().split("-")
        try:
            if parts[0] != "etc" or len(parts) not in (2, 3):
                raise ValueError
            return cls(int(parts[1]), parts[2] if len(parts) == 3 else "mean")
        except ValueError:
            raise ValueError(f"a rule must be named etc-M or etc-M-recent (M >= 1), got {name!r}") from None


def commit_choice(rewards: np.ndarray) -> np.ndarray:
    """The committed strategy: ``(..., S, w)`` observed rewards → ``(...)`` index of the highest mean over ``w``.

    Ties go to the first strategy in table order. The replay and :class:`ETCAgent` both decide through here, so
    they decide alike to the last bit.
    """
    return np.argmax(np.mean(rewards, axis=-1), axis=-1)


class ETCAgent(BaseAgent):
    """Explore-then-commit (:class:`ETCRule`): round robin over the strategy table, then the best by a statistic.

    Arguments: ``explore`` ≥ 1 picks of each strategy (trial ``t`` plays strategy ``t mod S`` for the first
    ``explore·S`` trials); ``statistic`` ``"mean"`` (commit on the mean of a strategy's ``explore`` observed
    rewards) or ``"recent"`` (on its last ``ceil(explore/4)``). After the exploration it plays the committed
    strategy to the end; where ``explore·S ≥ τ`` it never commits. Cost-blind (reads only rewards and the reset
    info) and deterministic (no random draws). Why: the LearningCurves frontier's class, docs/findings/frontier.md.
    """

    name = "etc"

    def __init__(self, explore: int = 1, statistic: str = "mean") -> None:
        self.rule = ETCRule(explore, statistic)

    @classmethod
    def from_rule(cls, rule: ETCRule) -> ETCAgent:
        """The agent playing ``rule``."""
        return cls(rule.explore, rule.statistic)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Start an episode: no rewards seen, no commitment."""
        super().reset(info, rng)
        self.seen: list[list[float]] = [[] for _ in range(self.n_actions)]
        self.trial, self.committed = 0, -1

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """Round robin until every strategy has ``explore`` picks, then the committed strategy."""
        return self.trial % self.n_actions if self.committed < 0 else self.committed

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Record the reward; commit once the exploration is complete."""
        self.seen[action].append(check_reward(reward))
        self.trial += 1
        m, w = self.rule.explore, self.rule.window
        if self.committed < 0 and self.trial == m * self.n_actions:
            self.committed = int(commit_choice(np.asarray([seen[m - w:m] for seen in self.seen])))


def probe_switches(baseline: np.ndarray, probe: np.ndarray, threshold: float) -> np.ndarray:
    """Whether a probe-then-commit rule switches to serial: ``(..., recent)`` baseline and ``(..., L)`` probe
    rewards → ``(...)`` bool, mean(probe) ÷ mean(baseline) ≥ ``threshold``.

    A zero baseline gives ``inf`` (switch) for a positive probe and NaN (stay) for a zero one. The replay and
    :class:`ProbeCommitAgent` both decide through here, so they decide alike to the last bit.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.mean(probe, axis=-1) / np.mean(baseline, axis=-1)
    return ratio >= threshold


def serial_and_parallel(info: dict[str, Any], who: str) -> tuple[int, int]:
    """The indices of the first serial-type and the first parallel-type strategy of the reset ``info``'s table
    (its ``serial`` flags); a ValueError naming ``who`` and the flags when the table lacks either. Why: the frontier's
    agents and scripted schedules play exactly these two."""
    flags = tuple(bool(f) for f in info[SERIAL_FLAGS])
    if True not in flags or False not in flags:
        raise ValueError(f"{who} needs a serial and a parallel strategy in the table, got serial flags {flags} for "
                         f"strategies {info.get(STRATEGIES)}")
    return flags.index(True), flags.index(False)


class ProbeCommitAgent(BaseAgent):
    """Probe-then-commit on a serial/parallel table: parallel until trial ``at``, a serial probe, then commit.

    Trials (0-based) ``0 … at−1`` play the parallel strategy; ``at … at+length−1`` the serial one (the probe);
    after the probe the agent plays serial to the end of the episode if the probe's mean reward ÷ the mean
    reward of the ``recent`` parallel trials before ``at`` is ≥ ``threshold`` (:func:`probe_switches`), else
    parallel to the end. With ``at ≥ τ`` it is always-parallel; a probe that runs past τ is cut there.

    Arguments: ``at`` ≥ 1 the first serial trial T; ``length`` ≥ 1 the probe's trials L; ``threshold`` > 0 the
    switch ratio; ``recent`` in [1, at] the baseline's trials. The serial strategy is the first in the table whose
    serial flag (reset info ``serial``) is True, the parallel one the first whose flag is False. Cost-blind (reads
    only rewards and the reset info) and deterministic (no random draws). Why: the SerialParallel frontier's class
    — an episode is one of two cost-independent trajectories, so every rule replays exactly
    (docs/findings/frontier.md).
    """

    name = "probe-commit"

    def __init__(self, at: int = 1000, length: int = 1, threshold: float = 1.0, recent: int = 50) -> None:
        self.at = check_int(at, "at", 1)
        self.length = check_int(length, "length", 1)
        self.threshold = check_number(threshold, "threshold", 0.0, low_open=True)
        self.recent = check_int(recent, "recent", 1)
        if self.recent > self.at:
            raise ValueError(f"recent must be <= at (the baseline is the {recent} parallel trials before trial "
                             f"{at}), got recent {recent} with at {at}")

    @property
    def rule(self) -> str:
        """``probe-T+L-t`` (the threshold as ``%g``): the rule's identity in the frontier's results."""
        return probe_rule_name(self.at, self.length, self.threshold)

    def reset(self, info: dict[str, Any], rng: np.random.Generator) -> None:
        """Start an episode: find the serial and parallel strategies; nothing seen, nothing decided."""
        super().reset(info, rng)
        self.serial, self.parallel = serial_and_parallel(info, self.name)
        self.rewards: list[float] = []
        self.switched: bool | None = None  # None until the probe ends

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """Parallel before ``at``, serial during the probe, then the committed strategy."""
        trial = len(self.rewards)
        if trial < self.at:
            return self.parallel
        if trial < self.at + self.length:
            return self.serial
        return self.serial if self.switched else self.parallel

    def observe(self, action: int, reward: float, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Record the reward; decide once the probe's last trial is seen."""
        self.rewards.append(check_reward(reward))
        if len(self.rewards) == self.at + self.length:
            seen = np.asarray(self.rewards)
            self.switched = bool(probe_switches(seen[self.at - self.recent:self.at], seen[self.at:], self.threshold))


def probe_rule_name(at: int, length: int, threshold: float) -> str:
    """``probe-T+L-t``: a probe-then-commit rule's name in results (the threshold as ``%g``)."""
    return f"probe-{at}+{length}-{threshold:g}"


def probe_agent_spec(at: int, length: int, threshold: float, recent: int) -> str:
    """The agent spec playing a probe-then-commit rule: ``probe-commit{"at": T, "length": L, ...}``."""
    return "probe-commit" + json.dumps({"at": int(at), "length": int(length), "threshold": float(threshold),
                                        "recent": int(recent)})


def read_frontier(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every family's record in the frontier file (``path``, default :data:`FRONTIER_FILE`); ``{}`` if absent."""
    path = FRONTIER_FILE if path is None else Path(path)
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object family -> record, got {type(data).__name__}")
    return data


def record_frontier(family: str, record: dict[str, Any], path: Path | None = None) -> Path:
    """Merge ``record`` (keys :data:`RECORD_KEYS`) as ``family``'s choice into the frontier file, atomically.

    ``record``: ``agent`` the agent spec, ``rule`` the rule's short name, ``train_score`` its mean normalised return
    on the train split, ``train`` the worlds and seeds it was chosen on (words), ``command`` the exact command.
    """
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise ValueError(f"a frontier record needs {list(RECORD_KEYS)}; missing {missing}")
    path = FRONTIER_FILE if path is None else Path(path)
    data = read_frontier(path)
    data[family] = {key: record[key] for key in RECORD_KEYS}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.json")
    temporary.write_text(json.dumps(dict(sorted(data.items())), indent=2, ensure_ascii=False) + "\n")
    temporary.replace(path)
    return path


def frontier_label(family: str, path: Path | None = None) -> str | None:
    """``frontier (<rule>)``, e.g. ``frontier (etc-10)``: how results label the family's frontier agent; None when
    the family has no recorded choice."""
    record = read_frontier(path).get(family)
    return None if record is None else f"frontier ({record['rule']})"


def frontier_agent(family: str, path: Path | None = None) -> str | None:
    """The agent spec of the rule chosen on ``family``'s train split, labelled; None when none is recorded.

    The spec is the recorded one with ``"name": "frontier (<rule>)"`` added (:func:`frontier_label`), e.g.
    ``etc{"explore": 10, "statistic": "mean", "name": "frontier (etc-10)"}``: experiments and sweep files turn a
    spec's ``name`` into the runs' label (``benchmarks.experiment.agent_label``) and drop it from the agent's
    settings, so results show the frontier rows by that label while the registry builds ``etc`` or
    ``probe-commit``. Read from :data:`FRONTIER_FILE` (or ``path``). Why: docs/findings/frontier.md.
    """
    record = read_frontier(path).get(family)
    if record is None:
        return None
    spec = str(record["agent"])
    brace = spec.find("{")
    name, settings = (spec, {}) if brace < 0 else (spec[:brace], json.loads(spec[brace:]))
    return name + json.dumps({**settings, "name": f"frontier ({record['rule']})"}, ensure_ascii=False)
