"""Every response carries the security headers; the policy allows no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from access.models import User

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_login_page_has_a_strict_content_security_policy() -> None:
    response = Client().get(reverse("access:login"))
    policy = dict(
        (part.split(" ", 1) + [""])[:2]
        for part in (item.strip() for item in response["Content-Security-Policy"].split(";"))
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_pages_cannot_be_framed_or_sniffed_and_send_no_referrer_elsewhere(
    handlaggare: User, login_client
) -> None:
    for response in (Client().get(reverse("access:login")), login_client(handlaggare).get("/")):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        # Never a referrer to another site; same-origin keeps the Origin header for CSRF checks.
        assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_or_style() -> None:
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"<style\b|\sstyle=", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{template.relative_to(TEMPLATES)} (event handler attribute)")
    assert offenders == [], f"inline script or style in: {offenders}"


def test_hsts_and_secure_cookies_are_on_over_https(settings, handlaggare: User) -> None:
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get(reverse("access:login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_error_pages_show_no_details(settings) -> None:
    settings.DEBUG = False
    response = Client().get("/finns-inte/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Sidan hittades inte" in body
    assert "Traceback" not in body
    assert "URLconf" not in body
