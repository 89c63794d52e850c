"""The periods a nulägesbild covers: a calendar year or one of its halves, nothing finer.

The statistics records store half-years as ``year * 2 + half - 1`` (cases/models.py, ``period_of``), so
a year is the two consecutive codes ``year * 2`` and ``year * 2 + 1``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

# Skyddsnät has no data from before this year; anything earlier is a typing mistake.
FIRST_YEAR = 2000
LAST_YEAR = 2999


class PeriodError(ValueError):
    """A period that cannot be reported on; the message says why in plain words (English)."""


@dataclass(frozen=True)
class Period:
    year: int
    half: int | None = None  # 1 (January–June), 2 (July–December) or None for the whole year

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise PeriodError(f"The year must be between {FIRST_YEAR} and {LAST_YEAR}, not {self.year}.")
        if self.half not in (None, 1, 2):
            raise PeriodError(f"The half-year must be 1 or 2, not {self.half}.")

    @property
    def first(self) -> int:
        """The first half-year code of the period (as in StatisticsRecord.opened_period)."""
        return self.year * 2 + (self.half - 1 if self.half else 0)

    @property
    def last(self) -> int:
        return self.year * 2 + (self.half - 1 if self.half else 1)

    @property
    def starts_on(self) -> datetime.date:
        return datetime.date(self.year, 7 if self.half == 2 else 1, 1)

    @property
    def ends_before(self) -> datetime.date:
        """The first day after the period."""
        if self.half == 1:
            return datetime.date(self.year, 7, 1)
        return datetime.date(self.year + 1, 1, 1)

    @property
    def label(self) -> str:
        """The period in Swedish, as every output names it."""
        if self.half == 1:
            return f"första halvåret {self.year}"
        if self.half == 2:
            return f"andra halvåret {self.year}"
        return str(self.year)

    @property
    def slug(self) -> str:
        """For file names: ``2026`` or ``2026-h1``."""
        return f"{self.year}-h{self.half}" if self.half else str(self.year)

    def to_json(self) -> dict[str, object]:
        return {"year": self.year, "half": self.half, "label": self.label}

    def check_started(self, today: datetime.date) -> None:
        """A period that has not begun has nothing to report, and a release of zeros would mislead."""
        if self.starts_on > today:
            raise PeriodError(f"The period {self.slug} has not started yet.")

    def has_ended(self, today: datetime.date) -> bool:
        """Only a period that is over can be released: before that its figures still change with every
        case recorded, and two releases of one period differ by exactly those cases."""
        return self.ends_before <= today
