"""The request being served on this thread or task, for code that is not handed one.

Model signals (access/events.py) record who changed a membership or a user, whichever path made the
change: the admin, a view, a management command or the shell. Only the request knows the acting user,
its request id and the client's address, so RequestIdMiddleware binds it here for exactly the length
of the request. Outside a request (commands, the shell, tests without a client) there is none, and the
change is recorded as made by the system.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest

from access.models import User

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
_deriving_groups: ContextVar[bool] = ContextVar("deriving_groups", default=False)


@contextmanager
def bound_request(request: HttpRequest) -> Iterator[None]:
    """Make ``request`` the current request until the block ends, however it ends.

    Resetting (rather than setting None) restores whatever was bound before, so a request served
    inside another (the test client in a view test) cannot leave its user behind for the outer one.
    """
    token = current_request.set(request)
    try:
        yield
    finally:
        current_request.reset(token)


def acting_user() -> User | None:
    """The logged-in user of the current request, or None for the system and anonymous visitors."""
    request = current_request.get()
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        return user
    return None


@contextmanager
def deriving_groups() -> Iterator[None]:
    """Mark group changes made inside the block as derived from memberships (access/groups.py)."""
    token = _deriving_groups.set(True)
    try:
        yield
    finally:
        _deriving_groups.reset(token)


def is_deriving_groups() -> bool:
    return _deriving_groups.get()
