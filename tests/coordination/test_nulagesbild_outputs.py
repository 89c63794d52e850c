"""The nulägesbild's files: a valid PDF with the HTML's numbers, accessible HTML under the strict policy,
and CSV that spreadsheets read safely."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from coordination.nulagesbild.content import build_content
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.render_csv import render_csv, safe
from coordination.nulagesbild.render_html import NULAGESBILD_CSS, render_document, render_fragment
from coordination.nulagesbild.render_pdf import render_pdf
from coordination.pdf_fonts import register_fonts
from tests import pdf_reading
from tests.coordination.nulagesbild_data import random_records, reference_counts

PERIOD = Period(2026, 1)


@pytest.fixture(scope="module")
def content() -> dict[str, Any]:
    return build_content(reference_counts(random_records(17, size=1500), PERIOD), PERIOD)


@pytest.fixture(scope="module")
def pdf_file(content: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nulagesbild") / "nulagesbild.pdf"
    path.write_bytes(render_pdf(content))
    return path


class TableRows(HTMLParser):
    """The rows of every data table in an HTML document, each as a list of its cells' texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag in ("th", "td") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_rows(document: str) -> list[list[str]]:
    parser = TableRows()
    parser.feed(document)
    return parser.rows


def test_the_pdf_is_valid_embeds_its_font_and_names_itself(pdf_file: Path) -> None:
    content = pdf_file.read_bytes()
    pdf_reading.check_structure(content)
    fonts = pdf_reading.fonts(content)
    # The installed font (DejaVu Sans, or reportlab's Vera on a machine without it), embedded.
    assert fonts and all(register_fonts().regular.stem in font.name for font in fonts), fonts
    for font in fonts:
        assert font.embedded, f"a font is not embedded: {font}"
    info = pdf_reading.metadata(content)
    assert info["Title"] == "Nulägesbild, första halvåret 2026"
    assert info["Author"] == "Skyddsnät"
    assert info["Subject"].startswith("Anonymiserad, könsuppdelad nulägesbild")


def test_the_pdf_text_has_the_numbers_of_the_html_tables_row_by_row(
    content: dict[str, Any], pdf_file: Path
) -> None:
    text = pdf_reading.text(pdf_file.read_bytes(), layout=True)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    rows = html_rows(render_document(content))
    assert len(rows) > 60
    position = 0
    for row in rows:
        label, cells = row[0], row[1:]
        expected = " ".join([label, *cells])
        while position < len(lines) and lines[position] != expected:
            position += 1
        assert position < len(lines), f"the PDF has no line {expected!r} after the previous table row"
        position += 1


def test_the_pdf_renders_swedish_letters_the_footnote_the_method_and_page_numbers(pdf_file: Path) -> None:
    text = pdf_reading.text(pdf_file.read_bytes())
    assert "Våld i nära relation" not in text or "å" in text
    assert "Övriga/uppgift saknas" in text and "Hög risk" in text and "Äldre" not in text
    assert "Juridiskt kön." in text and "Normkritisk läsning." in text
    assert "Metod och röjandekontroll" in text and "visas som <5" in text
    pages = int(re.search(r"Sida 1 av (\d+)", text).group(1))
    assert pages >= 3 and f"Sida {pages} av {pages}" in text


def test_the_same_content_always_gives_the_same_files(content: dict[str, Any]) -> None:
    assert render_pdf(content) == render_pdf(content)
    assert render_document(content) == render_document(content)
    assert render_csv(content) == render_csv(content)


def test_the_html_has_no_script_no_inline_style_and_accessible_charts(content: dict[str, Any]) -> None:
    fragment = render_fragment(content)
    assert "<script" not in fragment and " style=" not in fragment and "<style" not in fragment
    assert not re.search(r"\son[a-z]+=", fragment)
    charts = re.findall(r"<svg[^>]*>", fragment)
    assert len(charts) == len(content["tables"])
    for chart in charts:
        assert 'role="img"' in chart and "aria-labelledby=" in chart
    assert fragment.count("<title id=") == fragment.count("<desc id=") == len(charts)
    # The description carries the numbers in words.
    assert "Stapeldiagram. Nya ärenden: kvinnor" in fragment
    assert '<th scope="col">Kvinnor</th>' in fragment and '<th scope="row">' in fragment
    document = render_document(content)
    assert document.startswith("<!DOCTYPE html>") and '<html lang="sv">' in document
    # Only the downloadable document carries its own rules; the pages use the site's stylesheet.
    assert NULAGESBILD_CSS in document


def test_the_stylesheet_styles_every_class_the_fragment_uses(content: dict[str, Any]) -> None:
    for css_class in set(re.findall(r'class="(nb-[a-z-]+)"', render_fragment(content))):
        assert f".{css_class}" in NULAGESBILD_CSS, css_class


def test_the_csv_is_utf8_with_bom_semicolon_separated_and_has_every_published_cell(
    content: dict[str, Any],
) -> None:
    data = render_csv(content)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "tabell",
        "tabellnamn",
        "rad",
        "radnamn",
        "kolumn",
        "kolumnnamn",
        "antal",
        "andel_procent",
        "status",
    ]
    assert {len(row) for row in rows} == {9}
    cells = [row for row in rows[1:] if row[0] not in ("om", "fotnot", "metod", "symbol", "kontrollsumma")]
    published = {
        (table["key"], row["key"], column): cell
        for table in content["tables"]
        for row in table["rows"]
        for column, cell in zip(table["columns"], row["cells"], strict=True)
    }
    from_csv = {(row[0], row[2], row[4]): row for row in cells if row[2] != "samtliga"}
    assert from_csv.keys() == published.keys()
    for key, cell in published.items():
        amount = from_csv[key][6]
        assert amount == (str(cell["value"]) if cell["value"] is not None else cell["display"])
    assert any(row[0] == "fotnot" and row[1].startswith("Juridiskt kön.") for row in rows)


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_csv_field_never_starts_a_formula(dangerous: str) -> None:
    assert safe(dangerous) == "'" + dangerous
    assert safe("<5") == "<5" and safe("×") == "×" and safe(12) == "12" and safe(None) == ""
