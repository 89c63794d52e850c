"""Every URL that carries a value in its path refuses a malformed one as "not found" before any view
runs. A NUL byte in a case reference was a 500 on PostgreSQL (a text value cannot hold it); so was an
over-long or odd value wherever a plain ``str`` segment reached a filter.

Walks every pattern the project has, so a new URL with a value in it is covered without being named.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import UUIDConverter
from django.urls.resolvers import RoutePattern

from access.converters import CONVERTERS
from access.models import User
from cases.models import Case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _routes(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(name, route, converters) of every URL pattern, with the route of the include() it sits in."""
    for entry in patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue
        route = prefix + str(entry.pattern)
        converters = dict(entry.pattern.converters)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            for name, sub_route, sub_converters in _routes(entry.url_patterns, route, inner):
                yield name, sub_route, {**converters, **sub_converters}
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", route, converters


def _fill(route: str, converters: dict[str, Any], values: dict[str, str]) -> str:
    path = route
    for name in converters:
        start = path.index("<")
        end = path.index(">", start)
        assert path[start:end].endswith(name), route
        path = path[:start] + values[name] + path[end + 1 :]
    return "/" + path


ALL_ROUTES = [route for route in _routes(get_resolver().url_patterns) if route[2]]
# The project's own URLs. Django's admin keeps its own patterns (<path:object_id>), and its lookups
# turn a malformed id into "not found" themselves; it is walked separately below.
ROUTES = [route for route in ALL_ROUTES if not route[0].startswith("admin:")]
ADMIN_ROUTES = [route for route in ALL_ROUTES if route[0].startswith("admin:")]


def test_the_walk_finds_the_urls_with_values() -> None:
    names = {name for name, _, _ in ROUTES}
    assert {"cases:detail", "coordination:case_coordination", "compliance:case_history"} <= names
    assert {"compliance:user_activity", "access:enrolment_link"} <= names


def test_every_value_in_a_path_has_a_converter_that_knows_its_shape() -> None:
    """No plain str (or path) segment: each value has a converter with a bounded, NUL-free shape."""
    plain = [
        (name, key)
        for name, _, converters in ROUTES
        for key, converter in converters.items()
        if not isinstance(converter, (UUIDConverter, *CONVERTERS.values()))
    ]
    assert plain == []


@pytest.mark.parametrize(("name", "route", "converters"), ROUTES, ids=[name for name, _, _ in ROUTES])
def test_a_nul_byte_or_an_odd_value_is_not_found(
    name: str,
    route: str,
    converters: dict[str, Any],
    case: Case,
    handlaggare: User,
    granskare: User,
    login_client: Callable[[User], Client],
) -> None:
    # The worst case for each value: one that exists and that the user may reach, made malformed.
    good = {key: str(uuid.uuid4()) for key, c in converters.items() if isinstance(c, UUIDConverter)}
    good.update({key: case.reference for key in converters if key == "reference"})
    good.update({key: handlaggare.username for key in converters if key == "username"})
    good.update({key: "csv" for key in converters if key == "fmt"})
    good.update({key: "a" * 43 for key in converters if key == "token"})
    assert set(good) == set(converters), f"no sample value for {set(converters) - set(good)} of {name}"
    for user in (handlaggare, granskare):
        client = login_client(user)
        for key in converters:
            for bad in (good[key] + "%00", good[key][:4] + "%00" + good[key][4:], "x" * 200, "%3Cb%3E"):
                path = _fill(route, converters, {**good, key: bad})
                for method in (client.get, client.post):
                    response = method(path)
                    assert response.status_code == 404, (name, key, method.__name__, response.status_code)


@pytest.mark.parametrize(
    ("name", "route", "converters"), ADMIN_ROUTES, ids=[name for name, _, _ in ADMIN_ROUTES]
)
def test_the_admin_answers_a_nul_byte_without_an_error(
    name: str, route: str, converters: dict[str, Any], login_client: Callable[[User], Client]
) -> None:
    superuser = UserFactory.create(username="rot", is_staff=True, is_superuser=True)
    client = login_client(superuser)
    values = {key: "1%00" for key in converters}
    for method in (client.get, client.post):
        response = method(_fill(route, converters, values))
        # 403: the admin's delete views, which the project turns off for everyone.
        assert response.status_code in (302, 403, 404), (name, method.__name__, response.status_code)
