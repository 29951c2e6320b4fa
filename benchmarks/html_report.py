"""``report.html``: the report as one self-contained page to share — figures inline, tables sortable.

The page is rendered from the very lines :mod:`tradeoff_gym.benchmarks.report` writes to ``report.md`` (the
experiment's :class:`~tradeoff_gym.benchmarks.experiment.ReportItem` headings, text, markdown tables and figures),
so the two files never disagree and nothing is computed twice. It needs no network and no other file: figures are
PNG ``data:`` URIs, the style sheet and the few lines of script that sort a table by a clicked header are inline.
Only the markdown the report uses is understood: headings, paragraphs, ``- `` lists, ``|`` tables, images,
``**bold**``, ``*italic*`` and inline code (docs/benchmarks/index.md, "The results directory").
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from pathlib import Path

#: The page's style sheet: readable width, zebra tables, figures scaled to the page.
STYLE = """
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328;
       background: #fff; margin: 0 auto; max-width: 1200px; padding: 24px 32px 64px; }
h1 { font-size: 1.6em; border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid #eaeef2; padding-bottom: .2em; }
code { font: .88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f3f4f6;
       padding: .1em .3em; border-radius: 4px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .8em 0 1.2em; font-size: .9em; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f8fa; cursor: pointer; user-select: none; position: sticky; top: 0; }
th:hover { background: #eaeef2; }
th[data-order="asc"]::after { content: " \\25B2"; font-size: .75em; }
th[data-order="desc"]::after { content: " \\25BC"; font-size: .75em; }
tr:nth-child(even) td { background: #fafbfc; }
img { max-width: min(100%, 980px); height: auto; display: block; margin: .6em 0 1.2em; }
.note { color: #57606a; font-size: .85em; }
"""

#: Sorts a table by the clicked header: numbers as numbers (a leading number of a cell such as "[0.1, 0.2]"),
#: the rest as text; a second click reverses the order.
SCRIPT = """
document.querySelectorAll("table").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.title = "sort by this column";
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var order = th.dataset.order === "asc" ? "desc" : "asc";
      table.querySelectorAll("th").forEach(function (h) { delete h.dataset.order; });
      th.dataset.order = order;
      function key(row) {
        var text = row.cells[column] ? row.cells[column].textContent.trim() : "";
        var number = parseFloat(text.replace(/^\\[/, ""));
        return isNaN(number) ? [1, text.toLowerCase()] : [0, number];
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), sign = order === "asc" ? 1 : -1;
        if (x[0] !== y[0]) return x[0] - y[0];
        return (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) * sign;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)]+)\)$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?inf$|^nan$|^—$")


def render_html(lines: Sequence[str], figures: Path, title: str = "tradeoff-gym report") -> str:
    """The page for a report's markdown ``lines``; an image ``figures/<path>`` is read from ``figures / <path>``.

    A figure that cannot be read is shown as a line saying so (the page is still written).
    """
    body: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if paragraph:
            body.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()
        if table:
            body.append(_table(table))
            table.clear()

    for line in (part for text in lines for part in text.split("\n")):
        stripped = line.strip()
        image = _IMAGE.match(stripped)
        if not stripped:
            flush()
        elif stripped.startswith("|"):
            if not table:
                flush()
            table.append(stripped)
        elif stripped.startswith("#"):
            flush()
            level = min(len(stripped) - len(stripped.lstrip("#")), 6)
            body.append(f"<h{level}>{_inline(stripped[level:].strip())}</h{level}>")
        elif image:
            flush()
            body.append(_image(image["alt"], image["src"], figures))
        elif stripped.startswith("- "):
            if paragraph or table:
                flush()
            items.append(stripped[2:])
        elif items:  # a list item's continuation line
            items[-1] += " " + stripped
        else:
            if table:
                flush()
            paragraph.append(stripped)
    flush()
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>", *body,
        '<p class="note">Written by tradeoff-gym beside report.md, from the same report; click a table header to '
        "sort by it.</p>",
        f"<script>{SCRIPT}</script>", "</body>", "</html>", "",
    ])


def _inline(text: str) -> str:
    """Markdown inline spans (code, bold, italic, escapes) as HTML; everything else escaped."""
    out, last = [], 0
    for match in re.finditer(r"`([^`]*)`", text):
        out.append(_emphasis(text[last:match.start()]))
        out.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    out.append(_emphasis(text[last:]))
    return "".join(out)


def _emphasis(text: str) -> str:
    text = html.escape(text.replace("\\*", "\x00"), quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    return text.replace("\x00", "*")


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _table(rows: list[str]) -> str:
    """A markdown table (header, rule, body rows) as an HTML table; numeric cells right-aligned."""
    header, body = _cells(rows[0]), rows[1:]
    if body and set(body[0].replace("|", "").replace(" ", "")) <= set("-:"):
        body = body[1:]
    head = "".join(f"<th>{_inline(cell)}</th>" for cell in header)
    lines = []
    for row in body:
        cells = _cells(row)
        lines.append("<tr>" + "".join(
            f'<td class="num">{_inline(cell)}</td>' if _NUMBER.match(cell) else f"<td>{_inline(cell)}</td>"
            for cell in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _image(alt: str, src: str, figures: Path) -> str:
    """An ``<img>`` with the PNG inline as a data URI (a figure under ``figures/``), or a line saying it is missing."""
    relative = src.removeprefix("figures/")
    path = figures / relative
    try:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return f'<p class="note">(figure {html.escape(src)} could not be read)</p>'
    kind = "png" if path.suffix.lower() == ".png" else path.suffix.lower().lstrip(".") or "png"
    return f'<img src="data:image/{kind};base64,{data}" alt="{html.escape(alt)}">'
