"""A case whose data key is already destroyed (a gallring that stopped half-way) answers with a page
that says so, not with a server error. Only a reader who reached the case through the policy gets this
far (cases/policy.py): an outsider still gets "not found"."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cases.vault import CaseShreddedError


class ShreddedCaseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, CaseShreddedError):
            # 410 Gone: the case's data no longer exist and will not come back.
            return render(request, "cases/shredded.html", status=410)
        return None
