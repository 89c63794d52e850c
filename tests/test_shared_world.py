"""The shared world (tests/shared_world.py) gives every test the world as it was built: neither what
an earlier test wrote to the database nor what it changed in its objects reaches the next one."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from access.models import Agency, AuditEvent
from tests.factories import AgencyFactory
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

BUILT = []


@dataclass
class World:
    agency: Agency
    agencies: int
    events: int


def build_world() -> World:
    BUILT.append(1)
    agency = AgencyFactory.create(code="delad", name="Delad värld")
    return World(agency, Agency.objects.count(), AuditEvent.objects.count())


_shared_world_once, world = shared_world(build_world)


@pytest.mark.parametrize("run", range(4))
def test_each_test_starts_from_the_world_as_built_and_it_is_built_once(world: World, run: int) -> None:
    assert len(BUILT) == 1
    assert Agency.objects.count() == world.agencies
    assert AuditEvent.objects.count() == world.events
    assert world.agency.name == "Delad värld"
    assert Agency.objects.get(pk=world.agency.pk).name == "Delad värld"
    # What this test does must be gone for the next one.
    AgencyFactory.create(code=f"egen-{run}", name="Bara i ett test")
    world.agency.name = "Ändrad i minnet"
    Agency.objects.filter(pk=world.agency.pk).update(name="Ändrad i databasen")
