"""Audit reports as files: CSV for a spreadsheet and PDF for the record.

Both are built from rows already read (and the export already audited) by the view; this module only
formats. The CSV is made safe for spreadsheets: a cell that a spreadsheet would run as a formula is
turned into text. The PDF carries the secrecy marking, the exporting user and the time on every page.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from access.compliance.queries import LOCAL_TIME, EventRow
from access.pdf_pages import page_counting_canvas

# What a spreadsheet may take for the start of a formula (or, tab and carriage return, a way to hide
# one): such a cell gets a leading apostrophe, which makes it text (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER = ";"  # what Swedish Excel expects (the comma is the decimal separator)
SECRECY_MARKING = "Sekretess enligt 26 kap. 1 § OSL"

# Bitstream Vera, shipped inside reportlab: embedded in the file, so å, ä and ö render on any reader.
FONT = "SkyddsnatVera"
FONT_BOLD = "SkyddsnatVeraBold"
_FONT_DIRECTORY = Path(reportlab.__file__).parent / "fonts"
# Tables are cut into parts of this many rows: reportlab splits a table across pages in time that grows
# faster than its length, and ten thousand rows in one table take minutes.
ROWS_PER_TABLE = 250
CELL_FONT_SIZE = 6.5
BREAK_AFTER = frozenset(" ,;-")


def spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def local_time(moment: datetime.datetime) -> str:
    return timezone.localtime(moment, LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _columns() -> list[str]:
    return [
        _("Tid"),
        _("Användare"),
        _("Myndighet"),
        _("Roll"),
        _("Händelsekod"),
        _("Händelse"),
        _("Objekttyp"),
        _("Referens"),
        _("Ägande myndighet"),
        _("Grund"),
        _("Begäran"),
        _("Klientadress"),
        _("Detaljer"),
    ]


def _csv_cells(row: EventRow) -> list[str]:
    event = row.event
    return [
        local_time(event.occurred_at),
        event.actor_username,
        event.agency_code,
        event.role,
        event.action,
        row.action_label,
        event.object_type,
        event.object_reference,
        event.object_agency,
        event.reason,
        event.request_id,
        event.client_address,
        row.details,
    ]


def csv_bytes(rows: list[EventRow]) -> bytes:
    """UTF-8 with a byte order mark (so Excel reads å, ä, ö), semicolons, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(_columns())
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in _csv_cells(row)])
    return buffer.getvalue().encode("utf-8-sig")


# --- PDF ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def _character_width(character: str) -> float:
    return float(pdfmetrics.stringWidth(character, FONT, CELL_FONT_SIZE))


def wrapped(value: str, width: float) -> str:
    """``value`` broken into lines no wider than ``width`` points, after a space or comma where it
    can, anywhere in a long run (a request id). Plain lines in a table cell are drawn many times faster
    than a Paragraph: ten thousand rows take seconds rather than a minute."""
    lines: list[str] = []
    for text in value.splitlines() or [""]:
        line: list[str] = []
        used = 0.0
        for character in text:
            advance = _character_width(character)
            if line and used + advance > width:
                breaks = [index for index, kept in enumerate(line) if kept in BREAK_AFTER]
                cut = breaks[-1] + 1 if breaks else len(line)
                lines.append("".join(line[:cut]).rstrip())
                line = line[cut:]
                used = sum(_character_width(kept) for kept in line)
            line.append(character)
            used += advance
        lines.append("".join(line))
    return "\n".join(lines)


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(_FONT_DIRECTORY / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONT_DIRECTORY / "VeraBd.ttf")))


def _page_number(canvas: Canvas, number: int, total: int) -> None:
    canvas.setFont(FONT, 7)
    canvas.drawRightString(
        canvas._pagesize[0] - 12 * mm,
        8 * mm,
        _("Sida %(page)s av %(pages)s") % {"page": number, "pages": total},
    )


def pdf_bytes(
    rows: list[EventRow],
    *,
    title: str,
    filters: list[tuple[str, str]],
    scope: str,
    exported_by: str,
    exported_at: datetime.datetime,
) -> bytes:
    _register_fonts()
    buffer = io.BytesIO()
    pagesize = landscape(A4)
    exported = local_time(exported_at)
    marking = _("%(marking)s – exporterad av %(user)s %(time)s") % {
        "marking": SECRECY_MARKING,
        "user": exported_by,
        "time": exported,
    }

    def decorate(canvas: Canvas, document: SimpleDocTemplate) -> None:
        width, height = pagesize
        canvas.saveState()
        # The watermark, behind the table: who took this copy out, and when.
        canvas.setFillColor(colors.Color(0.85, 0.85, 0.85))
        canvas.setFont(FONT_BOLD, 20)
        canvas.translate(width / 2, height / 2)
        canvas.rotate(25)
        canvas.drawCentredString(0, 0, marking)
        canvas.restoreState()
        canvas.saveState()
        canvas.setFont(FONT_BOLD, 8)
        canvas.drawString(12 * mm, height - 9 * mm, SECRECY_MARKING)
        canvas.setFont(FONT, 7)
        canvas.drawRightString(width - 12 * mm, height - 9 * mm, marking)
        canvas.drawString(12 * mm, 8 * mm, title)
        canvas.restoreState()

    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        author=exported_by,
        subject=SECRECY_MARKING,
    )
    heading = ParagraphStyle("heading", fontName=FONT_BOLD, fontSize=13, leading=16, spaceAfter=4)
    text = ParagraphStyle("text", fontName=FONT, fontSize=8, leading=10)
    story: list[object] = [
        Paragraph(escape(title), heading),
        Paragraph(
            escape(_("Exporterad %(time)s av %(user)s.") % {"time": exported, "user": exported_by}), text
        ),
        Paragraph(escape(_("Granskningsområde: %(scope)s") % {"scope": scope}), text),
    ]
    if filters:
        described = "; ".join(f"{label}: {value}" for label, value in filters)
        story.append(Paragraph(escape(_("Urval: %(selection)s") % {"selection": described}), text))
    else:
        story.append(Paragraph(escape(_("Urval: alla händelser i granskningsområdet.")), text))
    story.append(Paragraph(escape(_("%(count)s händelser, nyaste först.") % {"count": len(rows)}), text))
    story.append(Spacer(1, 4 * mm))
    widths = [26 * mm, 22 * mm, 25 * mm, 26 * mm, 30 * mm, 26 * mm, 24 * mm, 30 * mm, 64 * mm]
    header = [
        _("Tid"),
        _("Användare"),
        _("Myndighet"),
        _("Roll"),
        _("Händelse"),
        _("Referens"),
        _("Grund"),
        _("Begäran, klientadress"),
        _("Detaljer"),
    ]
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD),
            ("FONTSIZE", (0, 0), (-1, -1), CELL_FONT_SIZE),
            ("LEADING", (0, 0), (-1, -1), 8),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.Color(0.7, 0.7, 0.7)),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ]
    )

    body = []
    for row in rows:
        event = row.event
        action = (
            row.action_label if row.action_label == event.action else f"{row.action_label} ({event.action})"
        )
        reference = event.object_reference
        if event.object_agency:
            reference = f"{reference} ({event.object_agency})" if reference else event.object_agency
        values = [
            local_time(event.occurred_at),
            event.actor_username,
            event.agency_code,
            row.role_label,
            action,
            reference,
            row.reason_label,
            ", ".join(value for value in (event.request_id, event.client_address) if value),
            row.details,
        ]
        body.append([wrapped(value, width - 4) for value, width in zip(values, widths, strict=True)])
    if not body:
        story.append(Paragraph(escape(_("Inga händelser.")), text))
    for start in range(0, len(body), ROWS_PER_TABLE):
        table = Table([header, *body[start : start + ROWS_PER_TABLE]], colWidths=widths, repeatRows=1)
        table.setStyle(style)
        story.append(table)
    document.build(
        story,
        onFirstPage=decorate,
        onLaterPages=decorate,
        canvasmaker=page_counting_canvas(FONT, _page_number),
    )
    return buffer.getvalue()
