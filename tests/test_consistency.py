"""Project-wide invariants: every URL is closed to anonymous users unless deliberately public, and
cases are fetched only through the one door (cases/policy.py) or the one scoping (visible_to)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# The only views reachable without a full login. Each shows no personal data; adding one here is a
# security decision and needs a review.
PUBLIC_VIEWS = {
    "access.views.login_password",
    "access.views.second_factor",
    "access.views.enrol",
    "access.views.enrolment_link",
    "access.views.enrol_qr",
    "coordination.urls._admin_login",
    "django.views.i18n.set_language",
}

SAMPLES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "uuid": str(uuid.UUID(int=1)),
    "path": "x",
}


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route, pattern


def _sample_path(route: str) -> str:
    if route.startswith("^") or "(?P<" in route:
        # Regex routes (the admin's catch-alls): strip anchors and fill named groups with a sample.
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", route).replace("^", "").replace("$", "").replace("\\", "")
        return "/" + path.replace("?", "")
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "x"), route)


def _view_name(pattern: URLPattern) -> str:
    callback = pattern.callback
    wrapped = getattr(callback, "__wrapped__", callback)
    module = getattr(callback, "__module__", None) or getattr(wrapped, "__module__", "")
    name = getattr(callback, "__qualname__", None) or getattr(wrapped, "__qualname__", repr(callback))
    return f"{module}.{name}"


ALL_ROUTES = sorted(_walk(get_resolver().url_patterns), key=lambda item: item[0])


@pytest.mark.parametrize(("route", "pattern"), ALL_ROUTES, ids=[route for route, _ in ALL_ROUTES])
def test_every_view_needs_a_login_unless_it_is_listed_as_public(route: str, pattern: URLPattern) -> None:
    name = _view_name(pattern)
    is_public = getattr(pattern.callback, "login_required", True) is False
    if is_public:
        assert name in PUBLIC_VIEWS, f"{name} ({route}) is reachable without login but not listed as public"
        return
    response = Client().get(_sample_path(route))
    if response.status_code == 404:
        # A sample value that matches no object; the redirect is what matters, so nothing leaked.
        return
    assert response.status_code == 302, f"{name} ({route}) answered {response.status_code} to anonymous"
    assert response["Location"].startswith((reverse("access:login"), "/admin/login/")), (
        f"{name} ({route}) redirected anonymous to {response['Location']}"
    )


def test_public_views_all_exist() -> None:
    names = {_view_name(pattern) for _route, pattern in ALL_ROUTES}
    assert names >= PUBLIC_VIEWS, f"listed as public but not routed: {PUBLIC_VIEWS - names}"


# --- One door per case ------------------------------------------------------------------------------

# Fetching a case by hand skips the policy: anything outside these modules must use
# cases.policy.access_case (one case) or Case.objects.visible_to(user) (lists).
CASE_FETCH = re.compile(r"\bCase\.objects\.(?:get|filter)\(|\bget_object_or_404\(\s*Case\b")
CASE_FETCH_ALLOWED = {
    "cases/policy.py",  # the door itself
    "cases/models.py",
    "cases/actions.py",  # locks the row it was handed (select_for_update)
    "cases/reading.py",
    "cases/vault.py",
    # System-side code that runs without a user (no request, no view). Each entry is a reviewed exception.
    "cases/demo.py",  # seeding the documented demo cases: skips those that exist
    "cases/importing/runner.py",  # the import: checks which cases exist before discarding orphan keys
    "cases/retention.py",  # gallring: the closed cases due for purging
}
CASE_FETCH_SCANNED = ("cases", "coordination")


def case_fetches(source: str) -> list[tuple[int, str]]:
    """(line number, line) of every direct fetch of a Case in ``source``."""
    return [
        (number, line.strip())
        for number, line in enumerate(source.splitlines(), start=1)
        if CASE_FETCH.search(line)
    ]


def _scanned_modules() -> Iterator[tuple[str, Path]]:
    base = Path(settings.BASE_DIR)
    for package in CASE_FETCH_SCANNED:
        for path in sorted((base / package).rglob("*.py")):
            relative = path.relative_to(base).as_posix()
            if "/management/commands/" in relative or "/migrations/" in relative:
                continue
            yield relative, path


def test_cases_are_fetched_only_through_the_policy() -> None:
    offenders = [
        f"{relative}:{number}: {line}"
        for relative, path in _scanned_modules()
        if relative not in CASE_FETCH_ALLOWED
        for number, line in case_fetches(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], (
        "These lines fetch a case without cases.policy.access_case or Case.objects.visible_to(user), "
        "so they skip the access check:\n" + "\n".join(offenders)
    )


def test_the_case_fetch_scan_recognises_every_form_of_a_direct_fetch() -> None:
    source = "\n".join(
        [
            "case = Case.objects.get(reference=reference)",
            "case = get_object_or_404(Case, reference=reference)",
            "cases = Case.objects.filter(agency=agency)",
            "cases = Case.objects.visible_to(user).filter(status=status)",  # scoped: fine
            "case = access_case(user, reference)",  # the door: fine
            "cases = StatisticsCase.objects.get(pk=1)",  # another model: fine
        ]
    )
    assert [number for number, _line in case_fetches(source)] == [1, 2, 3]
    assert {relative for relative, _path in _scanned_modules()} >= {
        "cases/views/browsing.py",
        "cases/views/sharing.py",
        "cases/views/editing.py",
        "cases/views/emergency.py",
        "coordination/views/start.py",
    }
