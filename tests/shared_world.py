"""One world per test module instead of one per test.

Many modules build the same small world (agencies, every role, a case, its disclosures) for each of
hundreds of parametrised tests; with every write audited, chained and MAC'd, that setup cost more than
the tests themselves. ``shared_world(build)`` builds it once per module (and per xdist worker) inside a
transaction on both databases that is rolled back when the module is done; each test runs, as before,
in its own savepoint within it (pytest-django's ``db``), so what a test writes is gone before the next
one starts, and the test gets a deep copy of the world's objects, so what it changes in memory is gone
too (as Django's ``TestCase.setUpTestData`` does).

The world is there for every test of the module (the fixture is autouse), whether it asks for it or
not: a test that does not want it belongs in another module. Only for modules whose tests all run in a
transaction: a ``transaction=True`` test cannot run inside the shared one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from django.db import transaction

_World = TypeVar("_World")

DATABASES = ("default", "keys")


def shared_world(build: Callable[[], _World], *, name: str = "world") -> tuple[Any, Any]:
    """Two fixtures: the world built once for the module, and ``name`` (a fresh copy for each test).
    Assign both in the test module: ``_shared_world_once, world = shared_world(build_world)``. (The first
    is requested by name, not looked up, so that pytest sets it up, a module fixture, before ``db``.)"""

    @pytest.fixture(scope="module", name="_shared_world_once", autouse=True)
    def built(django_db_setup: None, django_db_blocker: Any) -> Iterator[_World]:
        atomics = [transaction.atomic(using=alias) for alias in DATABASES]
        with django_db_blocker.unblock():
            for atomic in atomics:
                atomic.__enter__()
            try:
                data = build()
            except BaseException as error:
                _roll_back(atomics, error)
                raise
        try:
            yield data
        finally:
            with django_db_blocker.unblock():
                _roll_back(atomics, None)

    @pytest.fixture(name=name)
    def fresh(_shared_world_once: _World, db: None) -> _World:
        return copy.deepcopy(_shared_world_once)

    return built, fresh


def _roll_back(atomics: list[Any], error: BaseException | None) -> None:
    for alias, atomic in reversed(list(zip(DATABASES, atomics, strict=True))):
        transaction.set_rollback(True, using=alias)
        atomic.__exit__(type(error) if error else None, error, error.__traceback__ if error else None)
