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
from access.forms import EnrolmentForm, PasswordStepForm, TokenForm
from access.middleware import LOGGED_IN_AT, has_verified_second_factor
from access.models import EnrolmentLink, User
from access.models_admin import token_digest

PENDING_USER = "access.pending_user"
PENDING_SINCE = "access.pending_since"
PENDING_NEXT = "access.pending_next"
ENROLMENT_LINK = "access.enrolment_link"
ENROLMENT_SINCE = "access.enrolment_since"


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
    request: HttpRequest,
    user: User,
    device: TOTPDevice,
    *,
    link: EnrolmentLink | None = None,
    password: str | None = None,
) -> HttpResponse:
    """Log ``user`` in with ``device``, audited. With an enrolment ``link``: use the link up, set the chosen
    ``password``, confirm the device and remove every other one, all in the login's transaction.

    The events come first in the transaction: if they cannot be written nothing else happens, and
    AuditWriteError leaves an error page and a session without a user (fail closed).
    """
    next_url = request.session.get(PENDING_NEXT)
    _clear_pending(request)
    subject = user_subject(user)
    try:
        with transaction.atomic():
            if link is not None:
                locked = EnrolmentLink.objects.select_for_update().filter(pk=link.pk).usable().first()
                if locked is None:
                    raise LinkNoLongerUsable
                enrolment = {"purpose": locked.purpose, "link": str(locked.public_id)}
                record_event("auth.totp_enrolled", actor=user, request=request, details=enrolment, **subject)
                locked.used_at = timezone.now()
                locked.save(update_fields=["used_at"])
                for other in TOTPDevice.objects.filter(user=user).exclude(pk=device.pk):
                    other.delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                if password is not None:
                    user.set_password(password)
                    user.save(update_fields=["password"])
            details = {"second_factor": "totp", "agencies": agency_codes(user)}
            record_event("auth.login", actor=user, request=request, details=details, **subject)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            request.session[LOGGED_IN_AT] = timezone.now().isoformat()
    except BaseException:
        # The database rolled back; the session must not keep half a login either. Django does not save
        # the session of a 500 response, but a later middleware may answer with another status.
        request.session.flush()
        request.user = AnonymousUser()
        raise
    return redirect(_safe_next(request, next_url))


class LinkNoLongerUsable(Exception):
    """The enrolment link was used, revoked or expired between the page and the submitted code."""


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
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            # Never trust on first use: an authenticator is bound only through an enrolment link, so a
            # stolen or guessed password alone can never enrol the thief's phone.
            with transaction.atomic():
                details = {"reason": "not_enrolled"}
                record_event(
                    "auth.login_refused", actor=user, request=request, details=details, **user_subject(user)
                )
            form.add_error(
                None,
                _(
                    "Ditt konto har ingen aktiverad tvåfaktorsinloggning. Använd aktiveringslänken som "
                    "skickats till din e-post, eller be din administratör om en ny."
                ),
            )
            return render(request, "access/login.html", {"form": form})
        # New session key at the privilege change, against session fixation.
        request.session.cycle_key()
        request.session[PENDING_USER] = user.pk
        request.session[PENDING_SINCE] = timezone.now().isoformat()
        request.session[PENDING_NEXT] = _safe_next(request, request.GET.get("next"))
        return redirect("access:second_factor")
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
        _clear_pending(request)
        return redirect(settings.LOGIN_URL)
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


def _enrolment_link(request: HttpRequest) -> EnrolmentLink | None:
    """The enrolment link this session was opened with, while it is usable and within the window."""
    link_pk = request.session.get(ENROLMENT_LINK)
    since = request.session.get(ENROLMENT_SINCE)
    if link_pk is None or since is None:
        return None
    if timezone.now() - datetime.fromisoformat(since) > settings.ENROLMENT_WINDOW:
        _clear_enrolment(request)
        return None
    return (
        EnrolmentLink.objects.usable().select_related("user").filter(pk=link_pk, user__is_active=True).first()
    )


def _clear_enrolment(request: HttpRequest) -> None:
    for key in (ENROLMENT_LINK, ENROLMENT_SINCE):
        request.session.pop(key, None)


@public_view
@never_cache
def enrolment_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail. Its secret goes no further than this: the session remembers the link and
    the browser is sent on to a page whose address holds nothing (no Referer, no history entry with it)."""
    link = EnrolmentLink.objects.filter(token_hash=token_digest(token)).select_related("user").first()
    if link is None or not link.usable or not link.user.is_active:
        with transaction.atomic():
            details = {"known_link": link is not None}
            subject = user_subject(link.user) if link is not None else Subject()
            record_event(
                "auth.enrolment_link_refused", actor=None, request=request, details=details, **subject
            )
        return render(request, "access/enrolment_link_invalid.html", status=410)
    request.session.cycle_key()
    _clear_pending(request)
    request.session[ENROLMENT_LINK] = link.pk
    request.session[ENROLMENT_SINCE] = timezone.now().isoformat()
    with transaction.atomic():
        opened = {"purpose": link.purpose, "link": str(link.public_id)}
        record_event(
            "auth.enrolment_link_opened",
            actor=link.user,
            request=request,
            details=opened,
            **user_subject(link.user),
        )
    return redirect("access:enrol")


@public_view
@sensitive_post_parameters("token", "password1", "password2")
@csrf_protect
@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """Bind an authenticator and choose a password, reached only from an enrolment link (never from a
    password alone: a stolen password can never be used to enrol the thief's own phone)."""
    link = _enrolment_link(request)
    if link is None:
        return redirect(settings.LOGIN_URL)
    user = link.user
    if _is_locked_out(request, user):
        return locked_out(request)
    device = _unconfirmed_device(user)
    form = EnrolmentForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            _clear_enrolment(request)
            try:
                response = _complete_login(
                    request, user, device, link=link, password=form.cleaned_data["password1"]
                )
            except LinkNoLongerUsable:
                return render(request, "access/enrolment_link_invalid.html", status=410)
            messages.success(request, _("Tvåfaktorsinloggning är aktiverad för ditt konto."))
            return response
        _record_failed_code(request, user, enrolling=True)
        if _is_locked_out(request, user):
            return locked_out(request)
        form.add_error("token", _("Koden stämmer inte. Skanna QR-koden igen och försök på nytt."))
    context = {"form": form, "secret": _grouped_base32(device), "purpose": link.purpose}
    return render(request, "access/enrol.html", context)


@public_view
@never_cache
def enrol_qr(request: HttpRequest) -> HttpResponse:
    """The enrolment QR code as SVG, served separately so the page needs no inline image data."""
    link = _enrolment_link(request)
    if link is None:
        return HttpResponse(status=404)
    device = _unconfirmed_device(link.user)
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
