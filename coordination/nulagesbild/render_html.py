"""The nulägesbild as HTML: charts as inline SVG drawn here on the server, and the numbers as tables.

``render_fragment`` is what the chef's pages show inside the site (styled by static/css/nulagesbild.css, no
inline style attribute, no script: the Content-Security-Policy allows neither). ``render_document`` is
the downloadable file: the same fragment in a document of its own, with the same rules in a <style>
element so it reads well when opened from disk, where no stylesheet and no policy apply. Both are pure
functions of the published content: the same release gives the same characters every time.

Every text is escaped. Each chart is an ``<svg role="img">`` with a title and a description that
carries its numbers in words, and the table with the same numbers stands next to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.html import escape

from coordination.nulagesbild.content import canonical_json, content_hash, suppression_summary

GENDER_SERIES = ("kvinnor", "man", "ovriga")
SERIES_LABELS = {"kvinnor": "Kvinnor", "man": "Män", "ovriga": "Övriga/uppgift saknas", "totalt": "Totalt"}

# The stylesheet the chef's pages link to, copied into the downloadable document.
NULAGESBILD_CSS = (Path(settings.BASE_DIR) / "static" / "css" / "nulagesbild.css").read_text(encoding="utf-8")

_DOCUMENT_BASE_CSS = (
    "body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1b1b1b; "
    "max-width: 72rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; line-height: 1.5; }\n"
)

BAR = 11
BAR_GAP = 2
GROUP_GAP = 12
LABEL_WIDTH = 230
BAR_AREA = 330
CHART_WIDTH = 640
LEGEND_HEIGHT = 26


def document_title(content: dict[str, Any]) -> str:
    return f"Nulägesbild, {content['period']['label']}"


def cell_text(cell: dict[str, Any]) -> str:
    """A cell as every output prints it: the number or symbol, and the share where one is published."""
    if cell["percent"] is None:
        return str(cell["display"])
    return f"{cell['display']} ({cell['percent']} %)"


def _series(table: dict[str, Any]) -> tuple[str, ...]:
    return ("totalt",) if table["kind"] == "oneway" else GENDER_SERIES


def _cells_by_column(table: dict[str, Any], row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(zip(table["columns"], row["cells"], strict=True))


def chart_description(table: dict[str, Any]) -> str:
    """The chart's numbers in words, for a screen reader."""
    series = _series(table)
    parts = []
    for row in table["rows"]:
        cells = _cells_by_column(table, row)
        values = ", ".join(f"{SERIES_LABELS[name].lower()} {cells[name]['display']}" for name in series)
        parts.append(f"{row['label']}: {values}")
    return "Stapeldiagram. " + "; ".join(parts) + ". Samma siffror finns i tabellen."


def render_chart(table: dict[str, Any], chart_id: str) -> str:
    series = _series(table)
    rows = table["rows"]
    values = [
        _cells_by_column(table, row)[name]["value"]
        for row in rows
        for name in series
        if _cells_by_column(table, row)[name]["value"] is not None
    ]
    largest = max([*values, 1])
    group_height = len(series) * (BAR + BAR_GAP) + GROUP_GAP
    height = LEGEND_HEIGHT + len(rows) * group_height + 4
    title = escape(table["title"])
    parts = [
        f'<svg class="nb-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-titel {chart_id}-beskrivning">',
        f'<title id="{chart_id}-titel">{title}</title>',
        f'<desc id="{chart_id}-beskrivning">{escape(chart_description(table))}</desc>',
    ]
    if len(series) > 1:
        x = LABEL_WIDTH
        for name in series:
            parts.append(f'<rect class="nb-bar--{name}" x="{x}" y="6" width="12" height="12"/>')
            parts.append(f'<text x="{x + 16}" y="16">{escape(SERIES_LABELS[name])}</text>')
            x += 26 + 7 * len(SERIES_LABELS[name])
    y = LEGEND_HEIGHT
    for row in rows:
        cells = _cells_by_column(table, row)
        middle = y + (len(series) * (BAR + BAR_GAP)) / 2
        label = escape(row["label"])
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{middle + 4:.1f}" text-anchor="end">{label}</text>')
        for name in series:
            cell = cells[name]
            if cell["value"] is None:
                parts.append(
                    f'<text class="nb-chart-suppressed" x="{LABEL_WIDTH + 4}" y="{y + BAR - 1}">'
                    f"{escape(cell['display'])}</text>"
                )
            else:
                width = cell["value"] / largest * BAR_AREA
                if cell["value"] > 0:
                    width = max(width, 1.0)
                parts.append(
                    f'<rect class="nb-bar--{name}" x="{LABEL_WIDTH}" y="{y}" '
                    f'width="{width:.1f}" height="{BAR}"/>'
                )
                display = escape(cell["display"])
                parts.append(f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + BAR - 1}">{display}</text>')
            y += BAR + BAR_GAP
        y += GROUP_GAP
    parts.append("</svg>")
    return "".join(parts)


def render_table(table: dict[str, Any]) -> str:
    head = "".join(f'<th scope="col">{escape(SERIES_LABELS[column])}</th>' for column in table["columns"])
    first = "Population" if table["kind"] == "overview" else "Kategori"
    lines = [
        '<div class="table-scroll"><table class="nb-table">',
        f"<caption>{escape(table['title'])}</caption>",
        f'<thead><tr><th scope="col">{first}</th>{head}</tr></thead>',
        "<tbody>",
    ]
    rows = [(row, "") for row in table["rows"]]
    if table["population"]:
        rows.append((table["population"], ' class="nb-population"'))
    for row, attributes in rows:
        cells = "".join(f"<td>{_cell_html(cell)}</td>" for cell in row["cells"])
        lines.append(f'<tr{attributes}><th scope="row">{escape(row["label"])}</th>{cells}</tr>')
    lines.append("</tbody></table></div>")
    return "".join(lines)


def _cell_html(cell: dict[str, Any]) -> str:
    if cell["percent"] is None:
        return escape(cell["display"])
    return f'{escape(cell["display"])} <span class="nb-share">({cell["percent"]} %)</span>'


def render_notes(content: dict[str, Any]) -> str:
    method = content["method"]
    cells = method["cells"]
    footnotes = "".join(f"<li>{escape(note)}</li>" for note in content["footnotes"])
    rules = "".join(f"<li>{escape(rule)}</li>" for rule in method["rules"])
    symbols = "".join(
        f"<dt>{escape(symbol)}</dt><dd>{escape(meaning)}</dd>"
        for symbol, meaning in method["symbols"].items()
    )
    summary = suppression_summary(cells)
    digest = content_hash(canonical_json(content))
    return (
        '<section class="nb-notes" aria-labelledby="nb-om">'
        '<h2 id="nb-om">Om statistiken</h2>'
        f'<ol class="nb-footnotes">{footnotes}</ol>'
        "<h3>Metod och röjandekontroll</h3>"
        f"<ul>{rules}</ul>"
        f'<dl class="nb-symbols">{symbols}</dl>'
        f"<p>{escape(summary)}</p>"
        f'<p class="nb-hash">Kontrollsumma för innehållet (SHA-256): <code>{digest}</code></p>'
        "</section>"
    )


def render_fragment(content: dict[str, Any]) -> str:
    period = content["period"]["label"]
    parts = [
        f'<div class="nb"><p class="nb-lead">{escape(content["title"])}. {escape(content["area"])}. '
        f"Period: {escape(period)}.</p>"
    ]
    for table in content["tables"]:
        section_id = f"nb-{table['key']}"
        parts.append(
            f'<section class="nb-section" aria-labelledby="{section_id}">'
            f'<h2 id="{section_id}">{escape(table["title"])}</h2>'
            f'<p class="nb-description">{escape(table["description"])}</p>'
            '<div class="nb-figure-row">'
            f'<figure class="nb-chart">{render_chart(table, section_id + "-diagram")}'
            f"<figcaption>Diagram: {escape(table['title'].lower())}. Siffrorna finns i tabellen.</figcaption>"
            "</figure>"
            f"{render_table(table)}"
            "</div></section>"
        )
    parts.append(render_notes(content))
    parts.append("</div>")
    return "\n".join(parts)


def render_document(content: dict[str, Any]) -> str:
    title = escape(document_title(content))
    return (
        '<!DOCTYPE html>\n<html lang="sv">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f"<style>\n{_DOCUMENT_BASE_CSS}{NULAGESBILD_CSS}</style>\n"
        f"</head>\n<body>\n<main>\n<h1>{title}</h1>\n{render_fragment(content)}\n</main>\n</body>\n</html>\n"
    )
