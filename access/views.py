"""Logging in with password and TOTP, enrolling an authenticator, logging out.

The user is logged in (``django.contrib.auth.login``) only after the second factor: between the two
steps the session holds just a "pending" marker that expires, so a password alone never yields a
session that any other view would accept.

A login, an enrolment and a logout are audited here, in their own transaction; failed passwords,
failed codes and lockouts are audited from the signals they send (access/events.py).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.audit import AuditWriteError, record_event
from access.decorators import public_view
from access.events import SECOND_FACTOR_SENDER, Subject, agency_codes, user_subject
from access.forms import PasswordStepForm, TokenForm
from access.middleware import has_verified_second_factor
from access.models import User

PENDING_USER = "access.pending_user"
PENDING_SINCE = "access.pending_since"
PENDING_NEXT = "access.pending_next"


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _pending_user(request: HttpRequest) -> User | None:
    """The user who has given a correct password in this session within the allowed window."""
    user_pk = request.session.get(PENDING_USER)
    since = request.session.get(PENDING_SINCE)
    if user_pk is None or since is None:
        return None
    if timezone.now() - datetime.fromisoformat(since) > settings.SECOND_FACTOR_WINDOW:
        _clear_pending(request)
        return None
    return User.objects.filter(pk=user_pk, is_active=True).first()


def _clear_pending(request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_SINCE, PENDING_NEXT):
        request.session.pop(key, None)


def _complete_login(
    request: HttpRequest, user: User, device: TOTPDevice, *, enrolling: bool = False
) -> HttpResponse:
    """Log ``user`` in with ``device`` (confirming it first when ``enrolling``), audited.

    The events come first in the transaction: if they cannot be written nothing else happens, and
    AuditWriteError leaves an error page and a session without a user (fail closed).
    """
    next_url = request.session.get(PENDING_NEXT)
    _clear_pending(request)
    subject = user_subject(user)
    try:
        with transaction.atomic():
            if enrolling:
                record_event("auth.totp_enrolled", actor=user, request=request, **subject)
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            details = {"second_factor": "totp", "agencies": agency_codes(user)}
            record_event("auth.login", actor=user, request=request, details=details, **subject)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
    except BaseException:
        # The database rolled back; the session must not keep half a login either. Django does not save
        # the session of a 500 response, but a later middleware may answer with another status.
        request.session.flush()
        request.user = AnonymousUser()
        raise
    return redirect(_safe_next(request, next_url))


def _record_failed_code(request: HttpRequest, user: User, *, enrolling: bool) -> None:
    # A wrong code counts towards the same lockout as a wrong password, so guessing codes for a
    # stolen password is as limited as guessing passwords. The sender tells access/events.py to
    # audit it as a failed code.
    user_login_failed.send(
        sender=SECOND_FACTOR_SENDER,
        credentials={"username": user.get_username()},
        request=request,
        enrolment=enrolling,
    )


def _is_locked_out(request: HttpRequest, user: User) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """Answer for a locked-out account (django-axes' AXES_LOCKOUT_CALLABLE)."""
    _clear_pending(request)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "access/locked_out.html", {"cooloff_minutes": minutes}, status=429)


@public_view
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_password(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and has_verified_second_factor(request):
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = PasswordStepForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        # New session key at the privilege change, against session fixation.
        request.session.cycle_key()
        request.session[PENDING_USER] = user.pk
        request.session[PENDING_SINCE] = timezone.now().isoformat()
        request.session[PENDING_NEXT] = _safe_next(request, request.GET.get("next"))
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return redirect("access:second_factor")
        return redirect("access:enrol")
    return render(request, "access/login.html", {"form": form})


@public_view
@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def second_factor(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect(settings.LOGIN_URL)
    if _is_locked_out(request, user):
        return locked_out(request)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return redirect("access:enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            return _complete_login(request, user, device)
        _record_failed_code(request, user, enrolling=False)
        if _is_locked_out(request, user):
            return locked_out(request)
        if allowed:
            form.add_error("token", _("Koden stämmer inte. Kontrollera klockan i din telefon."))
        else:
            form.add_error("token", _("För många felaktiga koder. Vänta en stund och försök igen."))
    return render(request, "access/second_factor.html", {"form": form})


def _unconfirmed_device(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=False)
    return device


def _grouped_base32(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@public_view
@sensitive_post_parameters("token")
@csrf_protect
@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """First login: bind an authenticator app. Refused once the user has a confirmed device, so a
    stolen password can never be used to enrol the thief's own phone."""
    user = _pending_user(request)
    if user is None:
        return redirect(settings.LOGIN_URL)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("access:second_factor")
    if _is_locked_out(request, user):
        return locked_out(request)
    device = _unconfirmed_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            response = _complete_login(request, user, device, enrolling=True)
            messages.success(request, _("Tvåfaktorsinloggning är aktiverad för ditt konto."))
            return response
        _record_failed_code(request, user, enrolling=True)
        if _is_locked_out(request, user):
            return locked_out(request)
        form.add_error("token", _("Koden stämmer inte. Skanna QR-koden igen och försök på nytt."))
    context = {"form": form, "secret": _grouped_base32(device)}
    return render(request, "access/enrol.html", context)


@public_view
@never_cache
def enrol_qr(request: HttpRequest) -> HttpResponse:
    """The enrolment QR code as SVG, served separately so the page needs no inline image data."""
    user = _pending_user(request)
    if user is None or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return HttpResponse(status=404)
    device = _unconfirmed_device(user)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return HttpResponse(image.to_string(), content_type="image/svg+xml")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    subject = user_subject(user) if isinstance(user, User) else Subject()
    try:
        with transaction.atomic():
            record_event(
                "auth.logout", actor=user if isinstance(user, User) else None, request=request, **subject
            )
            logout(request)
    except AuditWriteError:
        # Ending a session is the safe side: it happens even when its audit entry cannot be
        # written, and the error page that follows tells the user something went wrong.
        logout(request)
        raise
    messages.info(request, _("Du är utloggad."))
    return redirect(settings.LOGOUT_REDIRECT_URL)
