from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from access.context import bound_request


def has_verified_second_factor(request: HttpRequest) -> bool:
    """True when django-otp's middleware has found the device this session was verified with."""
    return getattr(request.user, "otp_device", None) is not None


class RequireSecondFactorMiddleware:
    """A session that is logged in must also have passed TOTP; otherwise it is ended.

    Our login view logs a user in only after the second factor, so this catches every other way into
    a session (the admin's own login form, a forgotten code path): such a session is logged out and
    sent to our login page rather than served.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if getattr(view_func, "second_factor_not_required", False):
            return None
        if request.user.is_authenticated and not has_verified_second_factor(request):
            logout(request)
            return redirect(settings.LOGIN_URL)
        return None


_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id for the audit trail and logs: nginx's X-Request-ID behind our own
    proxy (when well-formed), otherwise a fresh random one.

    It also binds the request as the current one (access/context.py) while it is served, so audit
    events written from model signals know their actor, request id and client address.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "") if settings.BEHIND_PROXY else ""
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        with bound_request(request):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response
