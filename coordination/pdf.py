"""The meeting pack (mötesunderlag) and a case's summary as PDF, drawn with reportlab.

Only what the audited reads in coordination/meetings.py hand over reaches a page: case references, the
summary, minutes, decisions and actions, never an identity field. Three rules hold for every page:

- the font is embedded (coordination/pdf_fonts.py: DejaVu Sans, or the Bitstream Vera that reportlab
  ships), so å, ä and ö render and the text can be searched; no font at all is a clear error
  (``PdfFontMissingError``), never a standard PDF font that a reader might replace with one without them;
- every page carries the downloader's user name, the time (Europe/Stockholm) and "Sekretess enligt
  26 kap. 1 § OSL", in the header and footer and as a light diagonal watermark, and its page number;
- every text that comes from a user is escaped before it reaches a reportlab ``Paragraph``, which reads
  its input as markup: ``<b>`` or ``&amp;`` typed by a user come out as those characters.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer

from access.pdf_pages import page_counting_canvas
from coordination.meetings import MeetingRecord, SummaryExport
from coordination.pdf_fonts import BOLD, REGULAR, register_fonts

# The legal marking, in Swedish whatever the interface language: it is what the law calls it.
SECRECY_MARK = "Sekretess enligt 26 kap. 1 § OSL"
STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Control characters other than tab and line breaks have no place in a PDF text and can upset the parser.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n\s*\n")


def escape_text(text: str) -> str:
    """User text as reportlab Paragraph markup that shows exactly the characters typed: ``<``, ``>``
    and ``&`` escaped, line breaks kept as ``<br/>``, control characters dropped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return escape(text).replace("\n", "<br/>")


@dataclass(frozen=True)
class Watermark:
    username: str
    generated_at: datetime.datetime

    @property
    def time(self) -> str:
        return self.generated_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")

    @property
    def line(self) -> str:
        return f"{SECRECY_MARK} · {self.username} · {self.time}"


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("text", fontName=REGULAR, fontSize=10, leading=14, spaceAfter=4)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=17, leading=22, spaceAfter=8),
        "heading": ParagraphStyle(
            "heading", parent=base, fontName=BOLD, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4
        ),
        "subheading": ParagraphStyle(
            "subheading", parent=base, fontName=BOLD, fontSize=10.5, leading=14, spaceBefore=6, spaceAfter=2
        ),
        "text": base,
        "source": ParagraphStyle("source", parent=base, fontSize=8.5, leading=11, textColor=colors.dimgrey),
        "muted": ParagraphStyle("muted", parent=base, textColor=colors.dimgrey),
    }


def _local(moment: datetime.datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def _person(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


class _Story:
    """The flowables of one document; every text goes through ``escape_text``, ours as well."""

    def __init__(self) -> None:
        self.styles = _styles()
        self.flowables: list[Flowable] = []

    def add(self, text: str, style: str = "text") -> None:
        self.flowables.append(Paragraph(escape_text(text), self.styles[style]))

    def fact(self, label: str, value: str) -> None:
        self.flowables.append(
            Paragraph(f"<b>{escape_text(label)}:</b> {escape_text(value)}", self.styles["text"])
        )

    def free_text(self, text: str) -> None:
        """A user's text, one Paragraph per paragraph (blank lines between them)."""
        for part in _BLANK_LINES.split(text.strip()):
            if part.strip():
                self.add(part.strip())

    def space(self, height: float = 4 * mm) -> None:
        self.flowables.append(Spacer(1, height))


def _draw_diagonal(canvas: Any, watermark: Watermark) -> None:
    """Beneath the page's content: a light diagonal line with user, time and the secrecy mark."""
    width, height = A4
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.82, 0.82, 0.82))
    canvas.setFont(REGULAR, 15)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, 0, watermark.line)
    canvas.restoreState()


def _draw_header_and_footer(canvas: Any, watermark: Watermark, number: int, total: int) -> None:
    width, height = A4
    canvas.saveState()
    canvas.setFillColor(colors.black)
    canvas.setFont(BOLD, 9)
    canvas.drawString(18 * mm, height - 12 * mm, SECRECY_MARK)
    canvas.setFont(REGULAR, 8.5)
    canvas.drawRightString(
        width - 18 * mm, height - 12 * mm, f"Hämtad av {watermark.username} {watermark.time}"
    )
    canvas.setStrokeColor(colors.lightgrey)
    canvas.line(18 * mm, height - 14 * mm, width - 18 * mm, height - 14 * mm)
    canvas.line(18 * mm, 14 * mm, width - 18 * mm, 14 * mm)
    canvas.drawString(18 * mm, 9 * mm, watermark.line)
    canvas.drawRightString(width - 18 * mm, 9 * mm, f"Sida {number} av {total}")
    canvas.restoreState()


def _numbered_canvas(watermark: Watermark) -> type[Canvas]:
    """Every page gets the watermark, the header and "Sida n av N" once the document is complete."""

    def decorate(canvas: Canvas, number: int, total: int) -> None:
        _draw_header_and_footer(canvas, watermark, number, total)

    return page_counting_canvas(REGULAR, decorate)


def _render(story: _Story, *, title: str, watermark: Watermark) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=22 * mm,
        bottomMargin=22 * mm,
        # Metadata names the kind of document only: no reference, no person, no user.
        title=title,
        author="Skyddsnät",
        subject=SECRECY_MARK,
        creator="Skyddsnät",
    )

    def on_page(canvas: Any, _document: Any) -> None:
        _draw_diagonal(canvas, watermark)

    document.build(
        story.flowables,
        onFirstPage=on_page,
        onLaterPages=on_page,
        canvasmaker=_numbered_canvas(watermark),
    )
    return buffer.getvalue()


def render_meeting_pdf(record: MeetingRecord, *, username: str, generated_at: datetime.datetime) -> bytes:
    """The meeting pack for one reader: everything in ``record`` (already cut down to what that reader
    may see by ``read_meeting``)."""
    register_fonts()
    meeting = record.meeting
    story = _Story()
    story.add(_("Mötesunderlag – samverkansmöte"), "title")
    story.fact(_("Tid"), _local(meeting.starts_at))
    story.fact(_("Typ"), str(meeting.get_kind_display()))
    story.fact(_("Status"), str(meeting.get_status_display()))
    story.fact(_("Sammankallande myndighet"), meeting.organiser.name)
    story.fact(_("Deltagande myndigheter"), ", ".join(agency.name for agency in record.participants))
    if record.attendance:
        present = [f"{_person(row.user)} ({row.agency.name})" for row in record.attendance]
        story.fact(_("Närvarande"), ", ".join(present))
    else:
        story.fact(_("Närvarande"), _("Ingen närvaro är registrerad."))
    story.add(_("Dagordning"), "heading")
    if not record.agenda:
        story.add(_("Dagordningen är tom."), "muted")
    for entry in record.agenda:
        if not entry.accessible:
            story.add(_("Punkt %(number)s") % {"number": entry.number}, "heading")
            story.add(_("Ärendet är inte tillgängligt för dig."), "muted")
            continue
        story.add(
            _("Punkt %(number)s – ärende %(reference)s")
            % {"number": entry.number, "reference": entry.reference},
            "heading",
        )
        story.fact(_("Ägande myndighet"), entry.owner_agency)
        if entry.snapshot_version is not None:
            heading = _("Sammanfattning när ärendet sattes upp (version %(number)s)") % {
                "number": entry.snapshot_version
            }
        else:
            heading = _("Sammanfattning när ärendet sattes upp")
        story.add(heading, "subheading")
        if entry.snapshot:
            for paragraph in entry.snapshot:
                story.add(_("Skrivet av %(agency)s") % {"agency": paragraph.agency_name}, "source")
                story.free_text(paragraph.text)
        else:
            story.add(_("Ingen sammanfattning var skriven."), "muted")
        story.add(_("Protokoll"), "subheading")
        if entry.minutes:
            story.free_text(entry.minutes)
        else:
            story.add(_("Inget protokoll är skrivet."), "muted")
        story.add(_("Beslut"), "subheading")
        if entry.decisions:
            story.free_text(entry.decisions)
        else:
            story.add(_("Inga beslut är skrivna."), "muted")
        story.add(_("Åtgärder"), "subheading")
        if not entry.actions:
            story.add(_("Inga åtgärder."), "muted")
        for action_entry in entry.actions:
            action = action_entry.action
            summary = _("%(agency)s, ansvarig %(owner)s, klart senast %(due)s, %(status)s") % {
                "agency": action.agency.name,
                "owner": _person(action.owner),
                "due": action.due_on.isoformat(),
                "status": str(action.get_status_display()).lower(),
            }
            story.flowables.append(
                KeepTogether(
                    [
                        Paragraph(escape_text(summary), story.styles["source"]),
                        Paragraph(escape_text(action_entry.description), story.styles["text"]),
                    ]
                )
            )
    return _render(
        story, title=_("Mötesunderlag"), watermark=Watermark(username=username, generated_at=generated_at)
    )


def render_summary_pdf(export: SummaryExport, *, username: str, generated_at: datetime.datetime) -> bytes:
    """One case's current summary: its reference, owning agency, version and paragraphs."""
    register_fonts()
    story = _Story()
    story.add(_("Sammanfattning – ärende %(reference)s") % {"reference": export.case.reference}, "title")
    story.fact(_("Ägande myndighet"), export.owner_agency)
    if export.version is not None and export.saved_at is not None:
        story.fact(_("Version"), f"{export.version} ({_local(export.saved_at)})")
    story.space()
    if not export.paragraphs:
        story.add(_("Ingen sammanfattning är skriven ännu."), "muted")
    for paragraph in export.paragraphs:
        story.add(_("Skrivet av %(agency)s") % {"agency": paragraph.agency_name}, "source")
        story.free_text(paragraph.text)
    return _render(
        story, title=_("Sammanfattning"), watermark=Watermark(username=username, generated_at=generated_at)
    )
