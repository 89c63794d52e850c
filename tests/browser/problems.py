"""What went wrong inside the browser, collected by the ``page`` fixture (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BrowserProblems:
    """What went wrong inside the browser: console errors, uncaught exceptions, CSP violations."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return (
            [f"console error: {text}" for text in self.console_errors]
            + [f"uncaught exception: {text}" for text in self.page_errors]
            + [f"CSP violation: {text}" for text in self.csp_violations]
        )
