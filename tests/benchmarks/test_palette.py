"""The agent palette stays distinct past tab10's ten colours, and reference agents keep their style."""

import matplotlib.colors as mcolors

from tradeoff_gym.benchmarks.analysis import agent_styles


def test_25_agents_have_distinct_colour_and_style_pairs():
    agents = ["serial", "parallel", *(f"agent{i:02d}" for i in range(23))]
    styles = agent_styles(agents)
    assert set(styles) == set(agents)
    pairs = {(style.color, style.linestyle) for style in styles.values()}
    assert len(pairs) == 25
    for style in styles.values():
        assert mcolors.is_color_like(style.color) and style.marker


def test_eleven_agents_no_longer_share_a_colour_and_line():
    # tab10 alone gave parallel and ucb1 the same blue at 11 agents
    agents = ["serial", "parallel", *(f"learner{i}" for i in range(8)), "ucb1"]
    styles = agent_styles(agents)
    assert len({(s.color, s.linestyle) for s in styles.values()}) == len(agents)
    assert len({s.color for s in styles.values()}) == len(agents)  # 20 colours: every one of 11 agents its own


def test_reference_agents_keep_their_style_whatever_else_is_drawn():
    alone = agent_styles(["serial", "parallel"])
    crowded = agent_styles(["zeta", "serial", "alpha", *(f"a{i}" for i in range(30)), "parallel"])
    assert alone["serial"] == crowded["serial"] and alone["parallel"] == crowded["parallel"]
    assert alone["serial"].linestyle == "--" and alone["serial"].color != alone["parallel"].color
    learners = {crowded[a].color for a in crowded if a not in ("serial", "parallel")}
    assert alone["serial"].color not in learners or all(crowded[a].linestyle != "--" for a in crowded
                                                        if a not in ("serial", "parallel"))
    custom = agent_styles(["fixed-a", "b"], fixed=("fixed-a",))
    assert custom["fixed-a"].linestyle == "--" and custom["b"].linestyle == "-"


def test_an_agent_is_drawn_alike_whatever_order_a_figure_lists_the_agents_in():
    """The performance profile lists agents by IQM, the cost figures by name: the same style either way."""
    agents = ["serial", "parallel", "navigator", "epsilon-greedy", "sw-ucb-100", "ucb1"]
    by_name = agent_styles(sorted(agents))
    by_score = agent_styles(["ucb1", "navigator", "serial", "sw-ucb-100", "parallel", "epsilon-greedy"])
    assert by_name == by_score
