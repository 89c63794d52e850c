"""The nulägesbild as CSV: UTF-8 with a byte order mark (so spreadsheet programs read å, ä, ö), fields
separated by semicolons (the Swedish list separator), one line per published cell, then the footnotes
and the method. A field that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or
a carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from coordination.nulagesbild.content import canonical_json, content_hash, suppression_summary
from coordination.nulagesbild.render_html import SERIES_LABELS

HEADER = (
    "tabell",
    "tabellnamn",
    "rad",
    "radnamn",
    "kolumn",
    "kolumnnamn",
    "antal",
    "andel_procent",
    "status",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _amount(cell: dict[str, Any]) -> str:
    # A published number without digit grouping, for arithmetic; a symbol as printed.
    return str(cell["value"]) if cell["value"] is not None else str(cell["display"])


def render_csv(content: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    for table in content["tables"]:
        rows = [(row["key"], row) for row in table["rows"]]
        if table["population"]:
            rows.append(("samtliga", table["population"]))
        for row_key, row in rows:
            for column, cell in zip(table["columns"], row["cells"], strict=True):
                writer.writerow(
                    [
                        safe(part)
                        for part in (
                            table["key"],
                            table["title"],
                            row_key,
                            row["label"],
                            column,
                            SERIES_LABELS[column],
                            _amount(cell),
                            cell["percent"],
                            cell["status"],
                        )
                    ]
                )
    period = content["period"]["label"]
    notes = [
        ("om", content["title"]),
        ("om", f"Period: {period}"),
        ("om", content["area"]),
        *(("fotnot", note) for note in content["footnotes"]),
        *(("metod", rule) for rule in content["method"]["rules"]),
        *(("symbol", f"{symbol}: {meaning}") for symbol, meaning in content["method"]["symbols"].items()),
        ("metod", suppression_summary(content["method"]["cells"])),
        ("kontrollsumma", content_hash(canonical_json(content))),
    ]
    for kind, text in notes:
        writer.writerow([safe(kind), safe(text), "", "", "", "", "", "", ""])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
