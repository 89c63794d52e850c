from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Info, register

from coordination.pdf_fonts import DEJAVU, PdfFontMissingError, font_source


@register(deploy=True)
def pdf_font_covers_typed_names(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A production node without DejaVu Sans makes its PDFs with Bitstream Vera, which has the Swedish
    letters but not, say, ł or ş: a name typed with them prints as empty boxes in a meeting pack. Info,
    not a warning: the PDFs are still correct for Swedish text, and a fresh test machine has no DejaVu."""
    try:
        source = font_source()
    except PdfFontMissingError as error:
        return [Info(str(error), id="coordination.I002")]
    if source != DEJAVU:
        return [
            Info(
                f"The PDFs embed {source.name}: names with letters outside Latin-1 print as empty boxes.",
                hint="Install the Debian package fonts-dejavu-core (docs/operations.md).",
                id="coordination.I001",
            )
        ]
    return []
