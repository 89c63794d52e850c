"""Reading the project's PDFs back in tests, with pypdf (pinned in requirements/dev.txt).

No poppler or qpdf: the README's ``make test`` must pass on a machine with nothing but Python and make.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject


def reader(content: bytes) -> PdfReader:
    """A strict reader: a syntax or cross-reference error raises instead of being repaired quietly."""
    return PdfReader(io.BytesIO(content), strict=True)


def page_texts(content: bytes, *, layout: bool = False) -> list[str]:
    """Each page's text in drawing order, or (``layout``) laid out by position as on the page."""
    mode = "layout" if layout else "plain"
    return [page.extract_text(extraction_mode=mode) for page in reader(content).pages]


def text(content: bytes, *, layout: bool = False) -> str:
    """The whole document's text, pages separated by a form feed."""
    return "\f".join(page_texts(content, layout=layout))


@dataclass(frozen=True)
class Font:
    name: str
    subtype: str
    embedded: bool


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _descriptor_of(font: DictionaryObject) -> Any:
    descriptor = _resolved(font.get("/FontDescriptor"))
    if descriptor is None and "/DescendantFonts" in font:
        descendant = _resolved(_resolved(font["/DescendantFonts"])[0])
        descriptor = _resolved(descendant.get("/FontDescriptor"))
    return descriptor


def _fonts_in(resources: DictionaryObject | None, found: dict[int | str, Font], seen: set[int]) -> None:
    if resources is None:
        return
    for reference in _resolved(resources.get("/Font", DictionaryObject())).values():
        font = _resolved(reference)
        key = reference.idnum if isinstance(reference, IndirectObject) else str(font.get("/BaseFont"))
        descriptor = _descriptor_of(font)
        embedded = descriptor is not None and any(
            name in descriptor for name in ("/FontFile", "/FontFile2", "/FontFile3")
        )
        found[key] = Font(str(font.get("/BaseFont", "")), str(font.get("/Subtype", "")), embedded)
    # Form XObjects (a watermark drawn once and reused, say) carry resources of their own.
    for reference in _resolved(resources.get("/XObject", DictionaryObject())).values():
        if isinstance(reference, IndirectObject):
            if reference.idnum in seen:
                continue
            seen.add(reference.idnum)
        xobject = _resolved(reference)
        if xobject.get("/Subtype") == "/Form":
            _fonts_in(_resolved(xobject.get("/Resources")), found, seen)


def fonts(content: bytes) -> list[Font]:
    """Every font any page uses, as ``pdffonts`` lists them: its name, type and whether it is embedded."""
    found: dict[int | str, Font] = {}
    seen: set[int] = set()
    for page in reader(content).pages:
        _fonts_in(_resolved(page.get("/Resources")), found, seen)
    return list(found.values())


def check_structure(content: bytes) -> None:
    """Parse every object and decode every stream (what ``qpdf --check`` verifies): raises on a broken
    file, a bad cross-reference table or a stream that does not decode."""
    document = reader(content)
    assert content.startswith(b"%PDF-"), "not a PDF header"
    assert content.rstrip().endswith(b"%%EOF"), "no end-of-file marker"
    for generation_and_number in _object_ids(document):
        number, generation = generation_and_number
        value = document.get_object(IndirectObject(number, generation, document))
        if hasattr(value, "get_data"):
            value.get_data()
    for page in document.pages:
        page.get_contents()


def _object_ids(document: PdfReader) -> list[tuple[int, int]]:
    ids: list[tuple[int, int]] = []
    for generation, numbers in document.xref.items():
        ids.extend((number, generation) for number in numbers)
    ids.extend((number, 0) for number in document.xref_objStm)
    return ids


def metadata(content: bytes) -> dict[str, str]:
    info = reader(content).metadata
    if info is None:
        return {}
    return {str(key).lstrip("/"): str(value) for key, value in info.items()}
