"""Markers for the few views that may be reached before both factors are verified."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def public_view(view: View) -> View:
    """For the login steps and language switch only: no login and no second factor needed.

    Anything marked here must show no personal data; tests/test_consistency.py lists every such view.
    """
    view.second_factor_not_required = True  # type: ignore[attr-defined]
    return login_not_required(view)
