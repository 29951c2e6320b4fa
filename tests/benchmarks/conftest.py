"""Fixtures shared by the benchmark tests."""

import textwrap

import pytest


@pytest.fixture()
def broken_agent(tmp_path, monkeypatch) -> str:
    """``module:Class`` of a user's agent (importable from ``tmp_path``) that raises at trial 5 of every episode."""
    (tmp_path / "broken_agents.py").write_text(textwrap.dedent("""
        from tradeoff_gym.agents.baselines import RandomAgent

        class BrokenAgent(RandomAgent):
            def act(self, obs, info):
                if info["trial"] == 5:
                    raise RuntimeError("agent exploded at trial 5")
                return super().act(obs, info)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "broken_agents:BrokenAgent"
