from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from access.context import bound_request

# When the session's login happened (access/views.py sets it), for the absolute session lifetime.
LOGGED_IN_AT = "access.logged_in_at"


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


class NoStoreOnErrorsMiddleware:
    """Error pages (400, 403, 404, 405, the CSRF failure, 500) are never kept by a browser or a proxy.

    Outermost, so it also sees the answers other middleware and Django's exception handling produce. A
    refusal can name what was refused (a path with a case reference), and a shared computer's cache or
    back button must not show it to the next person.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400:
            add_never_cache_headers(response)
        return response


class AbsoluteSessionLifetimeMiddleware:
    """A session ends SESSION_MAX_AGE_HOURS after its login, however active: the idle timeout alone
    would let a session that is used every few minutes slide for ever.

    The login stamps the session (access/views.py); a session without a stamp (made before this
    existed) is stamped on its first request, so it too ends within the lifetime.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            stamp = request.session.get(LOGGED_IN_AT)
            if stamp is None:
                request.session[LOGGED_IN_AT] = timezone.now().isoformat()
            elif timezone.now() - datetime.fromisoformat(stamp) > settings.SESSION_MAX_AGE:
                return self._expire(request, user)
        return self.get_response(request)

    def _expire(self, request: HttpRequest, user: Any) -> HttpResponse:
        from access.audit import record_event
        from access.events import user_subject

        with transaction.atomic():
            details = {"max_hours": int(settings.SESSION_MAX_AGE.total_seconds() // 3600)}
            record_event(
                "auth.session_expired", actor=user, request=request, details=details, **user_subject(user)
            )
        logout(request)
        messages.info(
            request, _("Du har varit inloggad längre än tillåtet och har loggats ut. Logga in igen.")
        )
        return redirect(settings.LOGIN_URL)
