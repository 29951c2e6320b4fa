"""Reports people share: report.html beside report.md, and plain progress lines when stderr is a file.

Through the real console script, from a temporary working directory.
"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tradeoff_gym.benchmarks.html_report import render_html

SCRIPT = Path(sys.executable).parent / "tradeoff-bench"
CHROMIUM = Path("/usr/bin/chromium")
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ fig5: runs \d+ of \d+, trials [\d,]+ of [\d,]+ \(\d+ %\)")


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, str]:
    """A small fig5 sweep run by the console script, stderr into a file: (results directory, stderr text)."""
    cwd = tmp_path_factory.mktemp("cwd")
    with open(cwd / "stderr.txt", "w") as err:
        result = subprocess.run([str(SCRIPT), "run", "fig5", "--scale", "smoke", "--agents", "serial,parallel,ucb1",
                                 "--costs", "0,1", "--jobs", "1", "--out", "res"], cwd=cwd, stdout=subprocess.PIPE,
                                stderr=err, text=True, timeout=300)
    stderr = (cwd / "stderr.txt").read_text()
    assert result.returncode == 0, stderr
    return cwd / "res", stderr


def test_report_html_is_written_beside_report_md_and_self_contained(swept):
    root, _ = swept
    page = (root / "report.html").read_text()
    assert (root / "report.md").is_file()
    assert "<h2>Scoreboard</h2>" in page
    scoreboard = page.split("<h2>Scoreboard</h2>", 1)[1]
    assert re.search(r"<table><thead><tr><th>agent</th><th>score</th><th>95 % CI</th><th>n</th>", scoreboard)
    assert "<td>ucb1</td>" in scoreboard
    assert '<img src="data:image/png;base64,' in page
    assert len(re.findall(r"<img ", page)) == len(re.findall(r"!\[", (root / "report.md").read_text()))
    assert not re.search(r"""(src|href)=["']?(https?:|//|figures/)""", page)  # no external or sibling files
    assert "<script>" in page and "<style>" in page


def test_progress_on_a_file_is_plain_timestamped_lines(swept):
    _, stderr = swept
    assert "\r" not in stderr
    lines = [line for line in stderr.splitlines() if STAMP.match(line)]
    assert len(lines) >= 2, stderr
    assert re.search(r"runs (\d+) of \1, trials ([\d,]+) of \2 \(100 %\)", lines[-1]), lines[-1]
    assert all("ETA" in line for line in lines)


def test_render_html_tables_images_and_escaping(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG fake")
    page = render_html(["# T <x>", "", "- scale: `smoke`", "", "| agent | score |", "| --- | --- |",
                        "| a&b | 0.5 |", "", "![fig](figures/a.png)", "![gone](figures/missing.png)",
                        "", "**c\\* = 0.3** here"], tmp_path)
    assert "<h1>T &lt;x&gt;</h1>" in page and "<li>scale: <code>smoke</code></li>" in page
    assert '<td>a&amp;b</td><td class="num">0.5</td>' in page
    assert '<img src="data:image/png;base64,iVBORyBmYWtl" alt="fig">' in page
    assert "could not be read" in page and "<strong>c* = 0.3</strong>" in page


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium at /usr/bin/chromium (Debian package "
                    "`chromium`), which this machine lacks")
def test_report_html_renders_in_headless_chromium(swept, tmp_path):
    from PIL import Image

    root, _ = swept
    shot = tmp_path / "shot.png"
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1300,2000",
                    f"--screenshot={shot}", (root / "report.html").resolve().as_uri()],
                   cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 0
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (2000, 1300)
    top = pixels[:600]
    assert (top < 200).mean() > 0.005  # text and tables drawn, not a blank page
    assert (pixels < 250).any(axis=1)[600:].sum() > 300  # figures further down


def test_an_episode_played_alone_reports_its_trials_and_plays_the_same(tmp_path):
    from tradeoff_gym.benchmarks.experiment import RunSpec
    from tradeoff_gym.benchmarks.runner import WorkUnit, execute_unit

    spec = RunSpec("x/0", "tradeoff/LearningCurves-v0", "ucb1", 3, env_kwargs={"horizon": 8})
    watched = execute_unit(WorkUnit(spec, (spec,)), str(tmp_path / "0"))
    alone = execute_unit(WorkUnit(spec, (spec,)))
    assert int((tmp_path / "0").read_text()) >= 1  # the first trial is written at once, then every 2 s
    assert watched.frame.equals(alone.frame)
