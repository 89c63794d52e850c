"""The nulägesbild as PDF, drawn with reportlab from the published content only.

- the font is embedded (coordination/pdf_fonts.py: DejaVu Sans, or the Bitstream Vera that reportlab
  ships), so å, ä and ö render and the text can be searched and extracted; no font at all is a clear
  error, never a standard PDF font;
- the document metadata names the title, author (Skyddsnät) and subject, never a person;
- each table has its chart (reportlab.graphics) and its numbers, the footnotes and the method follow,
  and every page has its number ("Sida n av N");
- the output is byte for byte the same for the same content (reportlab's invariant mode: no creation
  time, a fixed document id), so a release downloaded twice gives the same file.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from access.pdf_pages import page_counting_canvas
from coordination.nulagesbild.content import canonical_json, content_hash, suppression_summary
from coordination.nulagesbild.render_html import SERIES_LABELS, cell_text, document_title
from coordination.pdf_fonts import BOLD, REGULAR, register_fonts

AUTHOR = "Skyddsnät"
SUBJECT = (
    "Anonymiserad, könsuppdelad nulägesbild över våld i nära relation och hedersrelaterat våld och förtryck"
)
SERIES_COLOURS = {
    "kvinnor": colors.HexColor("#1f5f8b"),
    "man": colors.HexColor("#b5541c"),
    "ovriga": colors.HexColor("#5b4a8b"),
    "totalt": colors.HexColor("#2f6b3a"),
}
GENDER_SERIES = ("kvinnor", "man", "ovriga")
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("text", fontName=REGULAR, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=17, leading=22, spaceAfter=6),
        "heading": ParagraphStyle(
            "heading", parent=base, fontName=BOLD, fontSize=12, leading=16, spaceBefore=10, spaceAfter=2
        ),
        "subheading": ParagraphStyle("subheading", parent=base, fontName=BOLD, fontSize=10, leading=14),
        "text": base,
        "muted": ParagraphStyle(
            "muted", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#4a4a4a")
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "header": ParagraphStyle(
            "header", parent=base, fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=TA_RIGHT
        ),
        "header_left": ParagraphStyle(
            "header_left", parent=base, fontName=BOLD, fontSize=8.5, leading=10.5, spaceAfter=0
        ),
    }


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _series(table: dict[str, Any]) -> tuple[str, ...]:
    return ("totalt",) if table["kind"] == "oneway" else GENDER_SERIES


def _chart(table: dict[str, Any]) -> Drawing:
    """Horizontal bars per row and gender; a suppressed cell gets its symbol instead of a bar."""
    series = _series(table)
    bar, gap, group_gap, legend = 7.0, 1.5, 6.0, 16.0
    label_width, bar_area = 62 * mm, 88 * mm
    group = len(series) * (bar + gap) + group_gap
    height = legend + len(table["rows"]) * group
    drawing = Drawing(TEXT_WIDTH, height)
    # The renderer's starting font; otherwise it names Helvetica, a font that is not embedded.
    drawing.initialFontName = REGULAR
    drawing.initialFontSize = 7.5
    values = [
        cell["value"]
        for row in table["rows"]
        for name, cell in zip(table["columns"], row["cells"], strict=True)
        if name in series and cell["value"] is not None
    ]
    largest = max([*values, 1])
    if len(series) > 1:
        x = label_width
        for name in series:
            drawing.add(Rect(x, height - 10, 7, 7, fillColor=SERIES_COLOURS[name], strokeColor=None))
            drawing.add(String(x + 10, height - 9.5, SERIES_LABELS[name], fontName=REGULAR, fontSize=7.5))
            x += 18 + pdfmetrics.stringWidth(SERIES_LABELS[name], REGULAR, 7.5)
    top = height - legend
    for row in table["rows"]:
        cells = dict(zip(table["columns"], row["cells"], strict=True))
        middle = top - len(series) * (bar + gap) / 2
        drawing.add(
            String(
                label_width - 4, middle - 2.5, row["label"], fontName=REGULAR, fontSize=7.5, textAnchor="end"
            )
        )
        y = top
        for name in series:
            cell = cells[name]
            y -= bar + gap
            if cell["value"] is None:
                drawing.add(
                    String(
                        label_width + 2,
                        y + 1.2,
                        cell["display"],
                        fontName=REGULAR,
                        fontSize=7,
                        fillColor=colors.HexColor("#4a4a4a"),
                    )
                )
                continue
            width = cell["value"] / largest * bar_area
            if cell["value"] > 0:
                width = max(width, 0.8)
                drawing.add(
                    Rect(label_width, y, width, bar, fillColor=SERIES_COLOURS[name], strokeColor=None)
                )
            drawing.add(
                String(label_width + width + 2, y + 1.2, cell["display"], fontName=REGULAR, fontSize=7)
            )
        top -= group
    return drawing


def _table(table: dict[str, Any], styles: dict[str, ParagraphStyle]) -> Table:
    first = "Population" if table["kind"] == "overview" else "Kategori"
    header = styles["header"]
    data: list[list[Any]] = [
        [
            _paragraph(first, styles["header_left"]),
            *(_paragraph(SERIES_LABELS[column], header) for column in table["columns"]),
        ]
    ]
    rows = list(table["rows"])
    if table["population"]:
        rows.append(table["population"])
    for row in rows:
        data.append([_paragraph(row["label"], styles["cell"]), *(cell_text(cell) for cell in row["cells"])])
    label_width = TEXT_WIDTH - 29 * mm * len(table["columns"])
    result = Table(data, colWidths=[label_width] + [29 * mm] * len(table["columns"]), repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
        ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor("#8a9299")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#c4c9cd")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if table["population"]:
        commands += [
            ("FONT", (1, -1), (-1, -1), BOLD, 8.5),
            ("LINEABOVE", (0, -1), (-1, -1), 1, colors.HexColor("#8a9299")),
        ]
    result.setStyle(TableStyle(commands))
    return result


def _numbered_canvas(footer: str) -> type[Canvas]:
    """Every page gets the footer and "Sida n av N" once the document is complete."""

    def decorate(canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(colors.HexColor("#4a4a4a"))
        canvas.setStrokeColor(colors.HexColor("#c4c9cd"))
        canvas.line(MARGIN, 14 * mm, PAGE_WIDTH - MARGIN, 14 * mm)
        canvas.drawString(MARGIN, 9 * mm, footer)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 9 * mm, f"Sida {number} av {total}")
        canvas.restoreState()

    return page_counting_canvas(REGULAR, decorate)


def render_pdf(content: dict[str, Any]) -> bytes:
    register_fonts()
    styles = _styles()
    title = document_title(content)
    story: list[Flowable] = [
        _paragraph(title, styles["title"]),
        _paragraph(
            f"{content['title']}. {content['area']}. Period: {content['period']['label']}.", styles["text"]
        ),
        Spacer(1, 3 * mm),
    ]
    for table in content["tables"]:
        story.append(
            KeepTogether(
                [
                    _paragraph(table["title"], styles["heading"]),
                    _paragraph(table["description"], styles["muted"]),
                    _chart(table),
                    Spacer(1, 2 * mm),
                ]
            )
        )
        story.append(_table(table, styles))
        story.append(Spacer(1, 4 * mm))
    method = content["method"]
    cells = method["cells"]
    story.append(_paragraph("Om statistiken", styles["heading"]))
    for number, note in enumerate(content["footnotes"], start=1):
        story.append(_paragraph(f"{number}. {note}", styles["text"]))
    story.append(_paragraph("Metod och röjandekontroll", styles["subheading"]))
    for rule in method["rules"]:
        story.append(_paragraph(f"• {rule}", styles["text"]))
    for symbol, meaning in method["symbols"].items():
        story.append(_paragraph(f"{symbol} – {meaning}", styles["text"]))
    story.append(_paragraph(suppression_summary(cells), styles["text"]))
    digest = content_hash(canonical_json(content))
    story.append(_paragraph(f"Kontrollsumma för innehållet (SHA-256): {digest}", styles["muted"]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=AUTHOR,
        subject=SUBJECT,
        creator="Skyddsnät",
        keywords="nulägesbild, våld i nära relation, hedersrelaterat våld, könsuppdelad statistik",
        invariant=1,
        initialFontName=REGULAR,
    )
    document.build(story, canvasmaker=_numbered_canvas(f"Skyddsnät · {title}"))
    return buffer.getvalue()
