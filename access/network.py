"""Where a request comes from, decided once for lockout and audit alike."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind our own proxy the address that proxy recorded.

    nginx (deploy/nginx.conf) replaces X-Forwarded-For with the peer address it saw, so only the
    right-most entry is ours; entries to its left come from the client and could be forged.
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [part.strip() for part in forwarded.split(",") if part.strip()]
        if entries:
            return str(entries[-1])
    return str(request.META.get("REMOTE_ADDR", ""))
