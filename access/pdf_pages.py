"""A reportlab canvas for documents whose every page says "Sida n av N", shared by every PDF the system
makes (the audit export here, the meeting and summary PDFs and the nulägesbild in coordination/).

The canvas holds each finished page back until the document is complete, so the number of pages is
known when the header and footer are drawn. It also starts in the document's embedded font: reportlab's
document template passes ``initialFontName=None``, which the canvas reads as the standard Helvetica,
a font that is never embedded and whose substitute on the reader's machine may lack å, ä and ö.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportlab.pdfgen.canvas import Canvas

# Draws on one page, given its number and the number of pages: a footer, a watermark.
PageDecoration = Callable[[Canvas, int, int], None]


def page_counting_canvas(font: str, decorate: PageDecoration) -> type[Canvas]:
    """A canvas class (for ``canvasmaker``) that starts in ``font`` and, once the document is complete,
    calls ``decorate(canvas, page_number, page_count)`` on every page before writing it."""

    class PageCountingCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type information
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = kwargs.get("initialFontName") or font
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            count = len(self._held_pages)
            for number, state in enumerate(self._held_pages, start=1):
                self.__dict__.update(state)
                decorate(self, number, count)
                super().showPage()
            super().save()

    return PageCountingCanvas
