"""Project-wide invariants: every URL is closed to anonymous users unless deliberately public."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# The only views reachable without a full login. Each shows no personal data; adding one here is a
# security decision and needs a review.
PUBLIC_VIEWS = {
    "access.views.login_password",
    "access.views.second_factor",
    "access.views.enrol",
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
