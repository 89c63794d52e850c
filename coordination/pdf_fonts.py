"""The font the coordination PDFs (meeting pack, summary, nulägesbild) embed.

DejaVu Sans from Debian's fonts-dejavu-core when it is installed: it covers the Latin, Greek and
Cyrillic scripts and much of Arabic, so a name typed in a summary renders as typed. Where it is not
installed (a fresh machine running ``make run``, a test run), Bitstream Vera, which reportlab itself
ships (a pinned dependency), and from which DejaVu was made: it has å, ä, ö, é, ü, the dashes, § and ×,
everything the fixed texts of these PDFs use, but not letters such as ł or ş, which would print as
empty boxes. ``manage.py check --deploy`` warns when a production node would fall back to it
(coordination/checks.py), so an operator installs the package (docs/operations.md).

Either way the font is embedded in the file, never a standard PDF font that a reader's machine might
substitute with one that lacks the Swedish letters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import reportlab
from django.core.exceptions import ImproperlyConfigured
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "SkyddsnatSans"
BOLD = "SkyddsnatSans-Bold"


@dataclass(frozen=True)
class FontSource:
    name: str
    regular: Path
    bold: Path

    def is_installed(self) -> bool:
        return self.regular.is_file() and self.bold.is_file()


SYSTEM_DIRECTORY = Path("/usr/share/fonts/truetype/dejavu")
DEJAVU = FontSource(
    "DejaVu Sans", SYSTEM_DIRECTORY / "DejaVuSans.ttf", SYSTEM_DIRECTORY / "DejaVuSans-Bold.ttf"
)
_BUNDLED = Path(reportlab.__file__).parent / "fonts"
VERA = FontSource("Bitstream Vera Sans", _BUNDLED / "Vera.ttf", _BUNDLED / "VeraBd.ttf")
# Preferred first.
SOURCES = (DEJAVU, VERA)


class PdfFontMissingError(ImproperlyConfigured):
    """No font file the PDFs can embed is installed; no PDF can be made until one is."""


_registered: FontSource | None = None


def font_source() -> FontSource:
    """The first installed source."""
    for source in SOURCES:
        if source.is_installed():
            return source
    raise PdfFontMissingError(
        "No PDF font is installed, so no PDF can be made: neither DejaVu Sans "
        f"({DEJAVU.regular}, Debian package fonts-dejavu-core) nor the Bitstream Vera that reportlab ships "
        f"({VERA.regular}; reinstall the pinned requirements)."
    )


def register_fonts() -> FontSource:
    """Register the font under the names REGULAR and BOLD and return its source. Chosen once per
    process: reportlab reads the whole file when it registers it and never lets a name be registered
    again, so a font package installed later takes effect at the next restart."""
    global _registered
    if _registered is None or not {REGULAR, BOLD} <= set(pdfmetrics.getRegisteredFontNames()):
        source = font_source()
        pdfmetrics.registerFont(TTFont(REGULAR, str(source.regular)))
        pdfmetrics.registerFont(TTFont(BOLD, str(source.bold)))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
        _registered = source
    return _registered
